import type { CacheChange, ObjectCache, RelistChanges } from './informer-cache.js';
import { splitKey, type KubeObject } from './kube-port.js';

/**
 * Which objects exist, and nothing else: a Set of names per namespace ('' for cluster-scoped
 * kinds). For a kind of which readers only ask "is there one of this name?" (the index of every
 * Secret): an entry costs its name string and a Set slot, ~70 bytes, where a trimmed object with
 * uid and resourceVersion cost ~250 (20,000 Secrets: ~1.4 MB instead of ~5 MB).
 *
 * Reads return a new `{ metadata: { name, namespace } }`. Nothing held can change, so a MODIFIED
 * event is no change and handlers get adds and deletes only.
 */
export class NameCache<T extends KubeObject> implements ObjectCache<T> {
  private byNamespace = new Map<string, Set<string>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): T | undefined {
    const { namespace, name } = splitKey(key);
    return this.byNamespace.get(namespace ?? '')?.has(name) ? buildNameOnly<T>(name, namespace) : undefined;
  }

  list(namespace?: string): T[] {
    const all: T[] = [];
    for (const [ns, names] of this.byNamespace) {
      if (namespace !== undefined && ns !== namespace) continue;
      for (const name of names) all.push(buildNameOnly<T>(name, ns || undefined));
    }
    return all;
  }

  upsert(received: T): CacheChange<T> | undefined {
    const { name = '', namespace } = received.metadata;
    if (!this.store(name, namespace ?? '')) return undefined;
    return { type: 'add', obj: buildNameOnly<T>(name, namespace) };
  }

  remove(received: T): CacheChange<T> | undefined {
    const { name = '', namespace } = received.metadata;
    const names = this.byNamespace.get(namespace ?? '');
    if (!names?.delete(name)) return undefined;
    this.count--;
    if (names.size === 0) this.byNamespace.delete(namespace ?? '');
    return { type: 'delete', obj: buildNameOnly<T>(name, namespace) };
  }

  /**
   * A relist: the listed names become the content; the old Sets tell what was added or deleted.
   * `transformed`: the items are name-only already (the list trimmed them page by page).
   */
  replace(items: readonly T[], transformed = false): RelistChanges<T> {
    const previous = this.byNamespace;
    this.byNamespace = new Map();
    this.count = 0;
    const changes: RelistChanges<T> = { added: [], updated: [], deleted: [] };
    for (const item of items) {
      const { name = '', namespace = '' } = item.metadata;
      if (!this.store(name, namespace) || previous.get(namespace)?.has(name)) continue;
      changes.added.push(transformed ? item : buildNameOnly<T>(name, namespace || undefined));
    }
    for (const [namespace, names] of previous) {
      const current = this.byNamespace.get(namespace);
      for (const name of names) if (!current?.has(name)) changes.deleted.push(buildNameOnly<T>(name, namespace || undefined));
    }
    return changes;
  }

  /** True when the name was not held yet. */
  private store(name: string, namespace: string): boolean {
    let names = this.byNamespace.get(namespace);
    if (!names) this.byNamespace.set(namespace, (names = new Set()));
    if (names.has(name)) return false;
    names.add(name);
    this.count++;
    return true;
  }
}

/** The object a name cache hands out: name and namespace only. */
export function buildNameOnly<T extends KubeObject>(name: string | undefined, namespace: string | undefined): T {
  return { metadata: namespace ? { name, namespace } : { name } } as T;
}
