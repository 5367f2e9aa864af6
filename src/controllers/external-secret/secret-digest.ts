/**
 * What the cache holds of a Secret Lockstep manages: its metadata and, instead of each value, a
 * keyed digest of it. The values themselves are held once, in what the reconciler rendered; the
 * cache only has to tell whether the Secret still holds them (drift) and which keys a rotation
 * changes. Keyed (HMAC with the operator's hash key), so a digest of a short value cannot be
 * reversed by guessing, from a heap dump or anywhere else.
 */
import { createHmac } from 'node:crypto';
import { hmacKey } from '../hash-key.js';
import { Annotations } from '../../api/constants.js';
import type { KubeObject } from '../../kube/kube-port.js';
import { computeDataHash, type DesiredSecret } from './secret-builder.js';

export type CachedSecret = KubeObject & {
  type?: string;
  immutable?: boolean;
  /** Data key → keyed digest of its (base64) value. */
  digests: Record<string, string>;
  /**
   * The Secret holds exactly what its data-hash annotation covers: its type, data, labels and
   * annotations hash to it. False for a Secret someone else edited, or one with foreign keys,
   * labels or annotations (it is then compared with a fresh rendering instead of adopted).
   */
  intact: boolean;
};

type FullSecret = KubeObject & { type?: string; data?: Record<string, string>; immutable?: boolean };

/** 128 bits of HMAC-SHA256 over the key name and its base64 value. */
export function digestValue(hashKey: Uint8Array, key: string, base64: string): string {
  // Encoded from the first 16 bytes: a flat string (a slice of the whole digest's text would keep it alive).
  return createHmac('sha256', hmacKey(hashKey)).update(key).update('\0').update(base64).digest().subarray(0, 16).toString('base64url');
}

/** The cached form of a Secret read whole (a watch event, a list page or a GET). */
export function toCachedSecret(hashKey: Uint8Array, obj: KubeObject): CachedSecret {
  const secret = obj as FullSecret;
  const { name, namespace, uid, resourceVersion, labels, annotations } = secret.metadata;
  const data = secret.data ?? {};
  const digests: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) digests[key] = digestValue(hashKey, key, value);
  const recorded = annotations?.[Annotations.dataHash];
  const intact = recorded !== undefined && recorded === computeDataHash(hashKey, {
    type: secret.type ?? 'Opaque', data, labels: labels ?? {}, annotations: annotations ?? {}, immutable: secret.immutable ?? false,
  });
  return {
    metadata: { name, namespace, uid, resourceVersion, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
    ...(secret.type !== undefined ? { type: secret.type } : {}),
    ...(secret.immutable ? { immutable: true } : {}),
    digests,
    intact,
  };
}

/** The metadata and data digests we render, to compare with a cached Secret. */
export interface RenderedShape {
  meta: Pick<DesiredSecret, 'type' | 'labels' | 'annotations' | 'immutable'>;
  /** Data key → digest of the value we render. */
  digests: Record<string, string>;
}

/**
 * Whether the Secret holds what we render: the same type and immutability, and our data keys,
 * labels and annotations with our values. Keys, labels and annotations that others added are not
 * ours to judge (Merge targets have them).
 */
export function holdsRendered(current: CachedSecret, rendered: RenderedShape): boolean {
  const { meta, digests } = rendered;
  if ((current.type ?? 'Opaque') !== meta.type || (current.immutable ?? false) !== meta.immutable) return false;
  const labels = current.metadata.labels ?? {};
  const annotations = current.metadata.annotations ?? {};
  for (const [k, v] of Object.entries(meta.labels)) if (labels[k] !== v) return false;
  for (const [k, v] of Object.entries(meta.annotations)) if (k !== Annotations.dataHash && annotations[k] !== v) return false;
  for (const [k, v] of Object.entries(digests)) if (current.digests[k] !== v) return false;
  return true;
}

/** The data keys whose values differ between the Secret and what we render (either side may lack one). */
export function changedKeys(current: CachedSecret, digests: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(digests), ...Object.keys(current.digests)]);
  return [...keys].filter((k) => current.digests[k] !== digests[k]);
}
