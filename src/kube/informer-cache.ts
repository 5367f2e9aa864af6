import { splitKey, type KubeObject } from './kube-port.js';

export type CacheChange<T extends KubeObject> =
  | { type: 'add'; obj: T }
  | { type: 'update'; obj: T; old: T }
  | { type: 'delete'; obj: T };

/**
 * What a relist changed, by kind of change. Grouped rather than a change object per object: the
 * first list of 20,000 Secrets made 20,000 change objects (and a key string each to find the
 * deleted ones) that lived as long as the list's dispatch, long enough to reach the old generation.
 */
export interface RelistChanges<T extends KubeObject> {
  added: T[];
  updated: { obj: T; old: T }[];
  deleted: T[];
}

/** What an informer keeps of the objects it lists and watches. */
export interface ObjectCache<T extends KubeObject> {
  readonly size: number;
  /** By key, `namespace/name`. */
  get(key: string): T | undefined;
  list(namespace?: string): T[];
  /** ADDED/MODIFIED: an add, an update, or nothing. `transformed`: the object was already trimmed. */
  upsert(received: T, transformed?: boolean): CacheChange<T> | undefined;
  /** DELETED: reports the object's final state; nothing if it was not held. */
  remove(received: T): CacheChange<T> | undefined;
  /** A relist: replaces the content, reports the difference. */
  replace(items: readonly T[], transformed?: boolean): RelistChanges<T>;
}

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
 * The objects an informer holds, by namespace ('' for cluster-scoped kinds) and name, and the
 * changes each write makes, with their bulk metadata dropped on the way in (`dropBulkMetadata`).
 * Readers still ask by key (`namespace/name`), but no key string is held per object: a cache of
 * 30,000 objects held ~3 MB in a second Map by key and its key strings. Objects of one namespace
 * share one namespace string (each parsed object brought its own copy: ~1 MB per 30,000).
 */
export class InformerCache<T extends KubeObject> implements ObjectCache<T> {
  private byNamespace = new Map<string, Map<string, T>>();
  private namespaceNames = new Map<string, string>();
  private count = 0;

  /** `transform` keeps only what readers of this cache need (see `InformerOptions.transform`). */
  constructor(private readonly transform?: (obj: T) => T) {}

  get size(): number {
    return this.count;
  }

  get(key: string): T | undefined {
    const { namespace, name } = splitKey(key);
    return this.byNamespace.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.byNamespace.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const objects of this.byNamespace.values()) for (const obj of objects.values()) all.push(obj);
    return all;
  }

  /** ADDED/MODIFIED: an add, an update, or nothing when the resourceVersion is the one we hold. */
  upsert(received: T, transformed = false): CacheChange<T> | undefined {
    const obj = this.admit(received, transformed);
    keepSpec(obj, this.byNamespace.get(obj.metadata.namespace ?? '')?.get(obj.metadata.name ?? ''));
    const old = this.store(obj);
    if (!old) return { type: 'add', obj };
    if (sameVersion(old, obj)) return undefined;
    return { type: 'update', obj, old };
  }

  /** DELETED: reports the object's final state; nothing if we did not hold it. */
  remove(received: T): CacheChange<T> | undefined {
    if (!this.unindex(received.metadata.namespace ?? '', received.metadata.name ?? '')) return undefined;
    return { type: 'delete', obj: this.transform ? this.transform(received) : received };
  }

  /**
   * A relist: the listed objects become the content, in new Maps, and the old Maps tell what was
   * added, updated (another resourceVersion) or deleted. `transformed`: the list already applied
   * the transform, page by page.
   */
  replace(items: readonly T[], transformed = false): RelistChanges<T> {
    const previous = this.byNamespace;
    this.byNamespace = new Map();
    this.namespaceNames = new Map();
    this.count = 0;
    const changes: RelistChanges<T> = { added: [], updated: [], deleted: [] };
    for (const received of items) {
      const obj = this.admit(received, transformed);
      const old = previous.get(obj.metadata.namespace ?? '')?.get(obj.metadata.name ?? '');
      keepSpec(obj, old);
      this.store(obj);
      if (!old) changes.added.push(obj);
      else if (!sameVersion(old, obj)) changes.updated.push({ obj, old });
    }
    for (const [namespace, objects] of previous) {
      const current = this.byNamespace.get(namespace);
      for (const [name, obj] of objects) if (!current?.has(name)) changes.deleted.push(obj);
    }
    return changes;
  }

  /** Bulk metadata dropped, the transform applied, the namespace string shared. */
  private admit(received: T, transformed: boolean): T {
    dropBulkMetadata(received);
    const obj = this.transform && !transformed ? this.transform(received) : received;
    const namespace = obj.metadata.namespace;
    if (namespace) obj.metadata.namespace = this.sharedName(namespace);
    return obj;
  }

  /** Holds `obj`; returns the object it replaces. */
  private store(obj: T): T | undefined {
    const objects = this.index(obj.metadata.namespace ?? '');
    const name = obj.metadata.name ?? '';
    const old = objects.get(name);
    objects.set(name, obj);
    if (!old) this.count++;
    return old;
  }

  private sharedName(namespace: string): string {
    const shared = this.namespaceNames.get(namespace);
    if (shared !== undefined) return shared;
    this.namespaceNames.set(namespace, namespace);
    return namespace;
  }

  private index(namespace: string): Map<string, T> {
    let objects = this.byNamespace.get(namespace);
    if (!objects) this.byNamespace.set(namespace, (objects = new Map()));
    return objects;
  }

  private unindex(namespace: string, name: string): boolean {
    const objects = this.byNamespace.get(namespace);
    if (!objects?.delete(name)) return false;
    this.count--;
    if (objects.size === 0) {
      this.byNamespace.delete(namespace);
      this.namespaceNames.delete(namespace);
    }
    return true;
  }
}

/**
 * Gives `obj` the spec object of `old` when its generation says the spec did not change (our own
 * status writes come back as whole objects, each with a freshly parsed spec): one spec per object
 * over its life, and what was built from it (a store's provider client keeps the strings of the
 * store's spec) shares its strings with the cache instead of holding a second copy. Kinds without
 * a generation (Secrets, Namespaces) keep what they received.
 */
function keepSpec(obj: KubeObject, old: KubeObject | undefined): void {
  const generation = obj.metadata.generation;
  if (old === undefined || generation === undefined || old.metadata.generation !== generation) return;
  if (obj['spec'] !== undefined && old['spec'] !== undefined) obj['spec'] = old['spec'];
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const rv = a.metadata.resourceVersion;
  return rv !== undefined && rv === b.metadata.resourceVersion;
}
