/** Pure helpers that turn Lockstep references into Secret Manager resource names and list filters. */
import { compileNamePattern } from '../name-pattern.js';
import type { FindQuery, RemoteRef } from '../provider.js';
import { InvalidRefError } from '../provider-errors.js';

const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;
const SECRET_NAME = /^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[a-zA-Z0-9_-]{1,255}$/;
/** A version number, "latest", or a version alias (which starts with a letter). */
const VERSION = /^([1-9][0-9]*|[a-zA-Z][a-zA-Z0-9_-]{0,62})$/;
/** Label keys and values: lower-case letters, digits, '_' and '-' (international letters too). */
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

/** The secret's resource name for a key that is a secret id or already a full resource name. */
export function buildSecretName(projectID: string, key: string): string {
  if (SECRET_NAME.test(key)) return key;
  if (!SECRET_ID.test(key)) {
    throw new InvalidRefError(
      `remote key '${key}' is neither a secret id (letters, digits, '_' and '-') nor a resource name 'projects/PROJECT/secrets/SECRET'`,
    );
  }
  return `projects/${projectID}/secrets/${key}`;
}

/** The version's resource name; the most recently created version ('latest') unless the ref names one. */
export function buildVersionName(projectID: string, ref: RemoteRef): string {
  const version = ref.version ?? 'latest';
  if (!VERSION.test(version)) {
    throw new InvalidRefError(`version '${version}' of remote key '${ref.key}' is not a version number, 'latest' or a version alias`);
  }
  return `${buildSecretName(projectID, ref.key)}/versions/${version}`;
}

/** The secret id at the end of a resource name. */
export function parseSecretId(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/**
 * A ListSecrets filter for the query's labels, so the server can narrow the list where it supports
 * filters. Results are always matched again by `shouldIncludeSecret`: emulators ignore filters.
 */
export function buildListFilter(query: FindQuery): string | undefined {
  const terms = Object.entries(query.tags ?? {})
    .filter(([k, v]) => LABEL_VALUE.test(k) && LABEL_VALUE.test(v))
    .map(([k, v]) => `labels.${k}="${v}"`);
  return terms.length > 0 ? terms.join(' AND ') : undefined;
}

export interface ListedSecret {
  name: string;
  labels: Record<string, string>;
}

/** A matcher for listed secrets: name regexp and path prefix on the secret id, and every label. */
export function buildSecretMatcher(query: FindQuery): (secret: ListedSecret) => boolean {
  const pattern = compileNamePattern(query.name?.regexp);
  const tags = Object.entries(query.tags ?? {});
  return (secret) => {
    const id = parseSecretId(secret.name);
    if (query.path !== undefined && !id.startsWith(query.path)) return false;
    if (pattern && !pattern.test(id)) return false;
    return tags.every(([k, v]) => secret.labels[k] === v);
  };
}
