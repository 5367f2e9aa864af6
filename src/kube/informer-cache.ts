import { objectKey, type KubeObject } from './kube-port.js';

export type CacheChange<T extends KubeObject> =
  | { type: 'add'; obj: T }
  | { type: 'update'; obj: T; old: T }
  | { type: 'delete'; obj: T };

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops what no reader of a cache needs and what is often the larger half of an object:
 * `managedFields`, and kubectl's `last-applied-configuration` annotation (a second copy of the
 * whole manifest on every object a client-side `kubectl apply` wrote, ExternalSecrets included).
 */
export function dropBulkMetadata(obj: KubeObject): void {
  // New objects rather than `delete`: deleting a property turns an object into a slow dictionary,
  // which costs a cached ExternalSecret ~380 bytes more (about a fifth of it).
  const { managedFields, annotations, ...metadata } = obj.metadata;
  let kept = annotations;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _lastApplied, ...rest } = annotations;
    kept = Object.keys(rest).length > 0 ? rest : undefined;
  }
  if (managedFields === undefined && kept === annotations) return;
  obj.metadata = kept ? { ...metadata, annotations: kept } : metadata;
}

/**
 * The objects an informer holds, keyed `namespace/name` and indexed by namespace, and the changes
 * each write makes, with their bulk metadata dropped on the way in (`dropBulkMetadata`).
 */
export class InformerCache<T extends KubeObject> {
  private readonly byKey = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, T>>();

  /** `transform` keeps only what readers of this cache need (see `InformerOptions.transform`). */
  constructor(private readonly transform?: (obj: T) => T) {}

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): T | undefined {
    return this.byKey.get(key);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.byKey.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  /** ADDED/MODIFIED: an add, an update, or nothing when the resourceVersion is the one we hold. */
  upsert(received: T, transformed = false): CacheChange<T> | undefined {
    dropBulkMetadata(received);
    const obj = this.transform && !transformed ? this.transform(received) : received;
    const key = objectKey(obj.metadata);
    const old = this.byKey.get(key);
    this.byKey.set(key, obj);
    this.index(obj.metadata.namespace ?? '').set(key, obj);
    if (!old) return { type: 'add', obj };
    if (sameVersion(old, obj)) return undefined;
    return { type: 'update', obj, old };
  }

  /** DELETED: reports the object's final state; nothing if we did not hold it. */
  remove(received: T): CacheChange<T> | undefined {
    const key = objectKey(received.metadata);
    if (!this.byKey.delete(key)) return undefined;
    this.unindex(received.metadata.namespace ?? '', key);
    return { type: 'delete', obj: this.transform ? this.transform(received) : received };
  }

  private index(namespace: string): Map<string, T> {
    let objects = this.byNamespace.get(namespace);
    if (!objects) this.byNamespace.set(namespace, (objects = new Map()));
    return objects;
  }

  private unindex(namespace: string, key: string): void {
    const objects = this.byNamespace.get(namespace);
    objects?.delete(key);
    if (objects?.size === 0) this.byNamespace.delete(namespace);
  }

  /**
   * A relist: replaces the content and returns the adds, updates and deletes that make the
   * difference. `transformed`: the list already applied the transform, page by page.
   */
  replace(items: readonly T[], transformed = false): CacheChange<T>[] {
    const changes: CacheChange<T>[] = [];
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(objectKey(obj.metadata));
      const change = this.upsert(obj, transformed);
      if (change) changes.push(change);
    }
    for (const [key, obj] of this.byKey) {
      if (seen.has(key)) continue;
      this.byKey.delete(key);
      this.unindex(obj.metadata.namespace ?? '', key);
      changes.push({ type: 'delete', obj });
    }
    return changes;
  }
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const rv = a.metadata.resourceVersion;
  return rv !== undefined && rv === b.metadata.resourceVersion;
}
