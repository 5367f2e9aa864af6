/**
 * `metadataPolicy: Fetch`, as External Secrets Operator reads it: the value of a remote key is its
 * metadata (AWS tags, Vault custom_metadata) as a JSON object, or with `property` the one entry of
 * that name (an exact key: tag keys hold dots and slashes). Messages name keys, never values.
 */
import { encodeText, expandJsonObject } from './json-value.js';
import { InvalidRefError } from './provider-errors.js';
import type { RemoteRef, WholeSecret } from './provider.js';

export type Metadata = Record<string, string>;

export function isMetadataFetch(ref: RemoteRef): boolean {
  return ref.metadataPolicy === 'Fetch';
}

/** getSecret: the whole metadata as JSON (keys sorted), or one entry's value. */
export function selectMetadata(metadata: Metadata, ref: Pick<RemoteRef, 'key' | 'property'>): Uint8Array {
  if (ref.property === undefined) {
    return encodeText(JSON.stringify(Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))));
  }
  if (!Object.hasOwn(metadata, ref.property)) {
    const keys = Object.keys(metadata).sort();
    const has = keys.length > 0 ? `its metadata keys are ${keys.map((k) => `'${k}'`).join(', ')}` : 'it has no metadata';
    throw new InvalidRefError(`metadata '${ref.property}' does not exist on remote key '${ref.key}' (${has})`);
  }
  return encodeText(metadata[ref.property] ?? '');
}

/** getSecretMap (extract): one entry per metadata key, or the JSON object held by one entry. */
export function expandMetadata(metadata: Metadata, ref: Pick<RemoteRef, 'key' | 'property'>): Map<string, Uint8Array> {
  if (ref.property !== undefined) return expandJsonObject(selectMetadata(metadata, ref), ref.key);
  return new Map(Object.entries(metadata).map(([k, v]) => [k, encodeText(v)]));
}

/** Metadata read whole: getSecret and getSecretMap select from it as above. */
export function buildMetadataWhole(metadata: Metadata): WholeSecret {
  return { value: (ref) => selectMetadata(metadata, ref), map: (ref) => expandMetadata(metadata, ref) };
}
