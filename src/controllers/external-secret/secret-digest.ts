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
import type { KubeObject, ObjectMeta } from '../../kube/kube-port.js';
import { computeDataHash, type DesiredSecret } from './secret-builder.js';

export type CachedSecret = KubeObject & {
  type?: string;
  immutable?: boolean;
  /** Data key → keyed digest of its (base64) value, made on each read: compare with `holdsRendered` / `changedKeys`. */
  readonly digests: Record<string, string>;
  /**
   * The Secret holds exactly what its data-hash annotation covers: its type, data, labels and
   * annotations hash to it. False for a Secret someone else edited, or one with foreign keys,
   * labels or annotations (it is then compared with a fresh rendering instead of adopted).
   */
  intact: boolean;
};

type FullSecret = KubeObject & { type?: string; data?: Record<string, string>; immutable?: boolean };

/** 128 bits of the HMAC: a digest is this many bytes, held as as many one-byte characters. */
const DIGEST_BYTES = 16;
/** Up to this many keys a digest is found by scanning the key list; beyond, through a Map. */
const SCANNED_KEYS = 32;

/** 128 bits of HMAC-SHA256 over the key name and its base64 value, as a 16-character latin1 string. */
export function digestValue(hashKey: Uint8Array, key: string, base64: string): string {
  return hmacOf(hashKey, key, base64).toString('latin1', 0, DIGEST_BYTES);
}

function hmacOf(hashKey: Uint8Array, key: string, base64: string): Buffer {
  return createHmac('sha256', hmacKey(hashKey)).update(key).update('\0').update(base64).digest();
}

/**
 * Frozen values shared between cached Secrets that hold the same: the data key lists and the
 * label sets (10,000 Secrets rendered from one template hold one of each instead of 10,000).
 * Bounded (started afresh when full), so Secrets with keys or labels of their own cannot grow it
 * without limit; values handed out before stay valid, they are only not shared with later
 * Secrets. Module-level like V8's own string table: it holds immutable values only and changes
 * no behaviour.
 */
class SharedValues<T extends object> {
  private readonly values = new Map<string, Readonly<T>>();

  constructor(private readonly max: number) {}

  /** The value held for `id`, or `make()`'s, frozen and held from now on. */
  get(id: string, make: () => T): Readonly<T> {
    const held = this.values.get(id);
    if (held) return held;
    if (this.values.size >= this.max) this.values.clear();
    const value = Object.freeze(make());
    this.values.set(id, value);
    return value;
  }
}

const keyLists = new SharedValues<string[]>(1024);
const labelSets = new SharedValues<Record<string, string>>(1024);
const NO_KEYS: readonly string[] = Object.freeze([]);

function sharedKeys(keys: string[]): readonly string[] {
  // Secret keys are [-._a-zA-Z0-9]+: no NUL in a key
  return keys.length === 0 ? NO_KEYS : keyLists.get(keys.join('\0'), () => keys);
}

function sharedLabels(labels: Record<string, string> | undefined): Readonly<Record<string, string>> | undefined {
  if (labels === undefined) return undefined;
  // JSON: label values may hold any character, the id must tell {a: 'b\0c'} from {a: 'b', c: ''}
  return labelSets.get(JSON.stringify(labels), () => ({ ...labels })); // a copy: the Secret read stays unfrozen
}

/**
 * A cached Secret. Its digests are one string, DIGEST_BYTES characters per key in the order of
 * `keys` (shared), not a Record of one string per key: ~100 bytes less per Secret of one key.
 * A class, so that every cached Secret has one shape and the `digests` accessor lives on the
 * prototype.
 */
class PackedSecret {
  [field: string]: unknown;
  metadata: ObjectMeta;
  type: string | undefined;
  immutable: boolean | undefined;
  intact: boolean;
  /** The data keys; the array is shared by Secrets with the same keys (`sharedKeys`). */
  readonly keys: readonly string[];
  /** DIGEST_BYTES one-byte characters per key of `keys`, in that order. */
  readonly packed: string;

  constructor(metadata: ObjectMeta, type: string | undefined, immutable: boolean | undefined, intact: boolean, keys: readonly string[], packed: string) {
    this.metadata = metadata;
    this.type = type;
    this.immutable = immutable;
    this.intact = intact;
    this.keys = keys;
    this.packed = packed;
  }

  /**
   * The digests as a Record (what an adopted rendering keeps), each a string of its own: a slice
   * of `packed` would be a 32-byte view that keeps all of `packed` alive.
   */
  get digests(): Record<string, string> {
    const bytes = Buffer.from(this.packed, 'latin1');
    const digests: Record<string, string> = {};
    this.keys.forEach((key, i) => { digests[key] = bytes.toString('latin1', i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES); });
    return digests;
  }

  /** Looks digests up by key: by a scan of `keys` for a few keys, through a Map made once for many. */
  lookup(): (key: string) => string | undefined {
    if (this.keys.length <= SCANNED_KEYS) {
      return (key) => {
        const i = this.keys.indexOf(key);
        return i < 0 ? undefined : this.digestAt(i);
      };
    }
    const positions = new Map(this.keys.map((key, i) => [key, i]));
    return (key) => {
      const i = positions.get(key);
      return i === undefined ? undefined : this.digestAt(i);
    };
  }

  private digestAt(i: number): string {
    return this.packed.slice(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES);
  }
}

/** The cached form of a Secret read whole (a watch event, a list page or a GET). */
export function toCachedSecret(hashKey: Uint8Array, obj: KubeObject): CachedSecret {
  const secret = obj as FullSecret;
  const { name, namespace, uid, resourceVersion, labels, annotations } = secret.metadata;
  const data = secret.data ?? {};
  const keys = Object.keys(data);
  const packed = Buffer.allocUnsafe(keys.length * DIGEST_BYTES); // every byte written below
  keys.forEach((key, i) => hmacOf(hashKey, key, data[key] as string).copy(packed, i * DIGEST_BYTES, 0, DIGEST_BYTES));
  const recorded = annotations?.[Annotations.dataHash];
  const intact = recorded !== undefined && recorded === computeDataHash(hashKey, {
    type: secret.type ?? 'Opaque', data, labels: labels ?? {}, annotations: annotations ?? {}, immutable: secret.immutable ?? false,
  });
  const metadata: ObjectMeta = { name, namespace, uid, resourceVersion, labels: sharedLabels(labels), annotations };
  return new PackedSecret(metadata, secret.type, secret.immutable ? true : undefined, intact, sharedKeys(keys), packed.toString('latin1'));
}

/** The digest `current` holds for `key` (any CachedSecret: one we made, or a plain object in tests). */
function digestIn(current: CachedSecret): (key: string) => string | undefined {
  if (current instanceof PackedSecret) return current.lookup();
  const { digests } = current;
  return (key) => (Object.hasOwn(digests, key) ? digests[key] : undefined);
}

/** The metadata and data digests we render, to compare with a cached Secret. */
export interface RenderedShape {
  meta: Pick<DesiredSecret, 'type' | 'labels' | 'annotations' | 'immutable'>;
  /** Data key → digest of the value we render (`digestValue`). */
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
  const held = digestIn(current);
  for (const [k, v] of Object.entries(digests)) if (held(k) !== v) return false;
  return true;
}

/** The data keys whose values differ between the Secret and what we render (either side may lack one). */
export function changedKeys(current: CachedSecret, digests: Record<string, string>): string[] {
  const held = digestIn(current);
  const changed = Object.keys(digests).filter((k) => held(k) !== digests[k]);
  const heldKeys = current instanceof PackedSecret ? current.keys : Object.keys(current.digests);
  for (const k of heldKeys) if (!Object.hasOwn(digests, k)) changed.push(k);
  return changed;
}
