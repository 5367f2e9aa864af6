/**
 * dataFrom rewrites applied in order: `regexp` renames keys (secret-builder's rewriteKeys), `merge`
 * merges the JSON objects the keys hold, with External Secrets Operator's rules (key order,
 * priority, conflicts, Extract or JSON), so migrated manifests sync the same Secret. Pure.
 */
import type { Rewrite, RewriteMerge } from '../../api/external-secret.js';
import { InvalidRefError } from '../../providers/provider-errors.js';
import { rewriteKeys } from './secret-builder.js';

const decoder = new TextDecoder();
const encode = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

/** JSON as Go's encoding/json writes a map: object keys sorted, at every level. */
export function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${goJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A merged field as ESO writes it into a Secret key: strings as they are, other values as JSON. */
function fieldBytes(value: unknown): Uint8Array {
  if (typeof value === 'string') return encode(value);
  if (value === null) return new Uint8Array();
  if (typeof value === 'number' || typeof value === 'boolean') return encode(String(value));
  return encode(goJson(value));
}

function mergeOrder(data: Map<string, Uint8Array>, merge: RewriteMerge): string[] {
  const priority = merge.priority ?? [];
  const rest = [...data.keys()].filter((k) => !priority.includes(k)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...rest, ...priority];
}

export function mergeValues(data: Map<string, Uint8Array>, merge: RewriteMerge, field: string): Map<string, Uint8Array> {
  const merged: Record<string, unknown> = {};
  const conflicts: string[] = [];
  for (const key of mergeOrder(data, merge)) {
    const value = data.get(key);
    if (value === undefined) {
      if (merge.priorityPolicy === 'IgnoreNotFound') continue;
      throw new InvalidRefError(`${field}: the priority key '${key}' is not among the keys (priorityPolicy Strict)`);
    }
    let object: unknown;
    try {
      object = JSON.parse(decoder.decode(value));
    } catch {
      object = undefined;
    }
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      throw new InvalidRefError(`${field}: the value of key '${key}' is not a JSON object`);
    }
    for (const [k, v] of Object.entries(object)) {
      if (Object.hasOwn(merged, k)) conflicts.push(k);
      merged[k] = v;
    }
  }
  if (conflicts.length > 0 && merge.conflictPolicy !== 'Ignore') {
    throw new InvalidRefError(`${field}: fields ${[...new Set(conflicts)].map((c) => `'${c}'`).join(', ')} come from more than one key (conflictPolicy Error; Ignore lets the later key win)`);
  }
  if (merge.strategy === 'JSON') {
    if (!merge.into) throw new InvalidRefError(`${field}: strategy JSON needs into`);
    return new Map([...data, [merge.into, encode(goJson(merged))]]);
  }
  return new Map(Object.entries(merged).map(([k, v]) => [k, fieldBytes(v)]));
}

/** Applies an entry's rewrites in order; `field` names the entry in errors ("dataFrom[0]"). */
export function applyRewrites(data: Map<string, Uint8Array>, rewrites: Rewrite[] | undefined, field: string): Map<string, Uint8Array> {
  let out = data;
  (rewrites ?? []).forEach((r, j) => {
    if (r.regexp) out = rewriteKeys(out, [{ regexp: r.regexp }]);
    else if (r.merge) out = mergeValues(out, r.merge, `${field}.rewrite[${j}].merge`);
  });
  return out;
}
