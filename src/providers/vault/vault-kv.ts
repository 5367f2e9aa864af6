/**
 * The KV secrets engine, versions 1 and 2, as pure functions: the API paths of a key, a version and
 * a folder, and the data map inside a response. No I/O here.
 */
import { encodeText, expandJsonObject, extractProperty } from '../json-value.js';
import type { RemoteRef, WholeSecret } from '../provider.js';
import { InvalidRefError } from '../provider-errors.js';

export type KvVersion = 'v1' | 'v2';

/** The field whose value is the whole secret when it is the only one (see secretValue). */
export const SINGLE_VALUE_FIELD = 'value';

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** A remote key as a path under the mount: no leading slash, not empty, not a folder. */
export function parseKey(key: string): string {
  const trimmed = key.replace(/^\/+/, '');
  if (trimmed === '' || trimmed.endsWith('/')) {
    throw new InvalidRefError(`remote key '${key}' is not a secret path (it is empty or names a folder)`);
  }
  if (trimmed.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidRefError(`remote key '${key}' has an empty, '.' or '..' path segment`);
  }
  return trimmed;
}

export class KvPaths {
  readonly mount: string;

  constructor(
    mount: string,
    readonly version: KvVersion,
  ) {
    this.mount = mount.replace(/^\/+|\/+$/g, '');
  }

  /** "remote key 'a/b' (version 3) in secret/ (KV v2)", for messages. */
  describe(key: string, version?: string): string {
    return `remote key '${key}'${version ? ` version '${version}'` : ''} in ${this.mount}/ (KV ${this.version})`;
  }

  /** The read path of a key, at a version or the newest. */
  data(key: string, version?: string): string {
    const path = encodePath(parseKey(key));
    if (this.version === 'v1') {
      if (version !== undefined) {
        throw new InvalidRefError(`${this.describe(key, version)}: KV v1 keeps no versions; remove remoteRef.version or use a KV v2 mount`);
      }
      return `${this.mount}/${path}`;
    }
    if (version === undefined) return `${this.mount}/data/${path}`;
    if (!/^[1-9][0-9]*$/.test(version)) {
      throw new InvalidRefError(`${this.describe(key, version)}: a KV v2 version is a positive whole number`);
    }
    return `${this.mount}/data/${path}?version=${version}`;
  }

  /** The LIST path of a folder ('' for the mount's root; otherwise ending in '/'). */
  list(folder: string): string {
    const encoded = encodePath(folder);
    return this.version === 'v1' ? `${this.mount}/${encoded}` : `${this.mount}/metadata/${encoded}`;
  }

  /** KV v2 only: the metadata path of a key (custom_metadata serves as tags). */
  metadata(key: string): string {
    return `${this.mount}/metadata/${encodePath(parseKey(key))}`;
  }
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

/** The data map of a read response; undefined when the version holds none (deleted or destroyed). */
export function parseKvData(body: unknown, version: KvVersion): Json | undefined {
  const data = asObject(asObject(body)?.data);
  return version === 'v1' ? data : asObject(data?.data);
}

/** The key names in a LIST response (folders end in '/'). */
export function parseKvList(body: unknown): string[] {
  const keys = asObject(asObject(body)?.data)?.keys;
  return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
}

/** The custom_metadata of a KV v2 metadata response. */
export function parseCustomMetadata(body: unknown): Record<string, string> {
  const custom = asObject(asObject(asObject(body)?.data)?.custom_metadata) ?? {};
  return Object.fromEntries(Object.entries(custom).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The value of a whole secret. A secret's value is its data map as JSON — except a map holding
 * only the field `value` (what `vault kv put path value=...` writes), whose value is that field
 * itself: a string as it is, anything else as JSON.
 */
export function secretValue(data: Json): Uint8Array {
  const fields = Object.keys(data);
  if (fields.length === 1 && fields[0] === SINGLE_VALUE_FIELD) {
    const single = data[SINGLE_VALUE_FIELD];
    return encodeText(typeof single === 'string' ? single : JSON.stringify(single));
  }
  return encodeText(JSON.stringify(data));
}

/** The data map as JSON bytes, for extractProperty and expandJsonObject. */
export function dataJson(data: Json): Uint8Array {
  return encodeText(JSON.stringify(data));
}

/**
 * A version's data map read whole: getSecret is secretValue, or with `property` that field of the
 * data map (dots walk into nested objects); getSecretMap expands the data map, or the object at
 * `property`.
 */
export function buildDataWhole(data: Json): WholeSecret {
  const field = (ref: RemoteRef, property: string) => extractProperty(dataJson(data), property, ref.key);
  return {
    value: (ref) => (ref.property ? field(ref, ref.property) : secretValue(data)),
    map: (ref) => expandJsonObject(ref.property ? field(ref, ref.property) : dataJson(data), ref.key),
  };
}
