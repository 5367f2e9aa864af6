import { objectKey, type KubeObject } from './kube-port.js';

export type CacheChange<T extends KubeObject> =
  | { type: 'add'; obj: T }
  | { type: 'update'; obj: T; old: T }
  | { type: 'delete'; obj: T };

/** The objects an informer holds, keyed `namespace/name`, and the changes each write makes. */
export class InformerCache<T extends KubeObject> {
  private readonly byKey = new Map<string, T>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): T | undefined {
    return this.byKey.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.byKey.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** ADDED/MODIFIED: an add, an update, or nothing when the resourceVersion is the one we hold. */
  upsert(obj: T): CacheChange<T> | undefined {
    const key = objectKey(obj.metadata);
    const old = this.byKey.get(key);
    this.byKey.set(key, obj);
    if (!old) return { type: 'add', obj };
    if (sameVersion(old, obj)) return undefined;
    return { type: 'update', obj, old };
  }

  /** DELETED: reports the object's final state; nothing if we did not hold it. */
  remove(obj: T): CacheChange<T> | undefined {
    const key = objectKey(obj.metadata);
    if (!this.byKey.delete(key)) return undefined;
    return { type: 'delete', obj };
  }

  /** A relist: replaces the content and returns the adds, updates and deletes that make the difference. */
  replace(items: readonly T[]): CacheChange<T>[] {
    const changes: CacheChange<T>[] = [];
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(objectKey(obj.metadata));
      const change = this.upsert(obj);
      if (change) changes.push(change);
    }
    for (const [key, obj] of this.byKey) {
      if (seen.has(key)) continue;
      this.byKey.delete(key);
      changes.push({ type: 'delete', obj });
    }
    return changes;
  }
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const rv = a.metadata.resourceVersion;
  return rv !== undefined && rv === b.metadata.resourceVersion;
}
