/** Reading fields out of JSON secret values; shared by every provider. Messages never include values. */
import { InvalidRefError } from './provider-errors.js';
import type { RemoteRef, WholeSecret } from './provider.js';

const decoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

function parseJsonObject(value: Uint8Array, key: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(value));
  } catch {
    throw new InvalidRefError(`remote key '${key}' is not a JSON object, so it has no properties`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidRefError(`remote key '${key}' is not a JSON object, so it has no properties`);
  }
  return parsed as Record<string, unknown>;
}

/** A field's value as bytes: strings as they are, anything else as JSON. */
function fieldBytes(field: unknown): Uint8Array {
  return encodeText(typeof field === 'string' ? field : JSON.stringify(field));
}

/**
 * Selects `property` from a JSON object value. An exact top-level key wins; otherwise dots walk
 * into nested objects ("db.password").
 */
export function extractProperty(value: Uint8Array, property: string, key: string): Uint8Array {
  const object = parseJsonObject(value, key);
  if (Object.hasOwn(object, property)) return fieldBytes(object[property]);
  let current: unknown = object;
  for (const part of property.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) {
      throw new InvalidRefError(`property '${property}' does not exist in remote key '${key}'`);
    }
    current = (current as Record<string, unknown>)[part];
  }
  return fieldBytes(current);
}

/** Expands a JSON object value into one entry per top-level field. */
export function expandJsonObject(value: Uint8Array, key: string): Map<string, Uint8Array> {
  const object = parseJsonObject(value, key);
  return new Map(Object.entries(object).map(([k, v]) => [k, fieldBytes(v)]));
}

/**
 * A value read whole whose properties are its JSON fields: getSecret selects `property` (see
 * extractProperty) or is the value itself; getSecretMap expands the object at `property` (the whole
 * value without one), as External Secrets Operator does for every provider.
 */
export function buildJsonWhole(value: Uint8Array): WholeSecret {
  const select = (ref: RemoteRef) => (ref.property ? extractProperty(value, ref.property, ref.key) : value);
  return {
    value: select,
    map: (ref) => expandJsonObject(select(ref), ref.key),
  };
}
