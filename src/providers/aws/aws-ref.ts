/**
 * How remoteRef.version and dataFrom.find map onto Secrets Manager requests. Pure functions.
 *
 * Version rule:
 * - absent, or `AWSCURRENT`       → the current version (read in batches);
 * - `AWSPREVIOUS` / `AWSPENDING`  → that staging label;
 * - `stage:<label>`               → any staging label, e.g. `stage:blue`;
 * - `uuid/<id>`                   → a version id (the spelling External Secrets Operator uses);
 * - anything else                 → a version id.
 */
import type { Pattern } from '../../runtime/pattern.js';
import type { Filter } from '@aws-sdk/client-secrets-manager';
import type { FindQuery } from '../provider.js';

export type VersionSelector = { VersionId: string } | { VersionStage: string } | undefined;

const AWS_STAGES = new Set(['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING']);

export function parseVersion(version: string | undefined): VersionSelector {
  if (!version || version === 'AWSCURRENT' || version === 'stage:AWSCURRENT') return undefined;
  if (AWS_STAGES.has(version)) return { VersionStage: version };
  if (version.startsWith('stage:')) return { VersionStage: version.slice('stage:'.length) };
  if (version.startsWith('uuid/')) return { VersionId: version.slice('uuid/'.length) };
  return { VersionId: version };
}

/** Characters a ListSecrets filter value may hold (Secrets Manager's own pattern). */
const FILTER_VALUE = /^[a-zA-Z0-9 :_@/+=.-]{1,512}$/;
const META = new Set([...'\\^$.|?*+()[]{}']);
const QUANTIFIERS = new Set(['?', '*', '{']);

/**
 * The literal prefix every match of `regexp` must start with, or undefined when there is none
 * we can prove: the pattern must be anchored with `^`, hold no alternation, and a literal char
 * followed by a quantifier is not part of the prefix.
 */
export function computeLiteralPrefix(regexp: string): string | undefined {
  if (!regexp.startsWith('^') || regexp.includes('|')) return undefined;
  let prefix = '';
  for (let i = 1; i < regexp.length; i++) {
    const ch = regexp.charAt(i);
    if (META.has(ch)) {
      if (QUANTIFIERS.has(ch) && prefix.length > 0) prefix = prefix.slice(0, -1);
      break;
    }
    prefix += ch;
  }
  return prefix.length > 0 ? prefix : undefined;
}

function usable(value: string | undefined): value is string {
  return value !== undefined && FILTER_VALUE.test(value) && !value.startsWith('!');
}

/**
 * Server-side ListSecrets filters that only narrow the listing; every candidate is still checked
 * by `shouldIncludeSecret`. Secrets Manager's filters are prefix matches (case-insensitive), so a
 * literal prefix of the name and one tag's key and value give a superset of the true matches.
 */
export function buildListFilters(query: FindQuery): Filter[] {
  const filters: Filter[] = [];
  const namePrefix = longest(query.path, query.name ? computeLiteralPrefix(query.name.regexp) : undefined);
  if (usable(namePrefix)) filters.push({ Key: 'name', Values: [namePrefix] });
  const [tag] = Object.entries(query.tags ?? {});
  if (tag && usable(tag[0])) filters.push({ Key: 'tag-key', Values: [tag[0]] });
  if (tag && usable(tag[1])) filters.push({ Key: 'tag-value', Values: [tag[1]] });
  return filters;
}

/** Of two prefixes that must both hold, the longer one narrows more (when one extends the other). */
function longest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a || !b) return a ?? b;
  if (b.startsWith(a)) return b;
  return a;
}

export interface ListedSecret {
  name: string;
  tags: Record<string, string>;
}

/** Whether a listed secret matches the whole query (path prefix, name regexp, every tag). */
export function shouldIncludeSecret(secret: ListedSecret, query: FindQuery, pattern: Pick<Pattern, 'test'> | undefined): boolean {
  if (query.path && !secret.name.startsWith(query.path)) return false;
  if (pattern && !pattern.test(secret.name)) return false;
  return Object.entries(query.tags ?? {}).every(([k, v]) => secret.tags[k] === v);
}
