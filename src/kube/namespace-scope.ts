/**
 * Caches kept only for the namespaces that need them. In a big cluster most Deployments and
 * Secrets live in namespaces that hold no ExternalSecret, and what reads those caches (the target
 * check, the rollout planner and the restarts) only ever looks in an ExternalSecret's own
 * namespace: caching the rest cost memory for nothing (bench/README.md, #11: 10,000 Deployments
 * and 20,000 Secrets the operator does not manage).
 *
 * A NamespaceScope knows which namespaces hold ExternalSecrets. A scoped informer follows it with
 * one informer per namespace while they are few, and one cluster-wide informer otherwise. Each
 * watch is a connection of its own to the API server, ~100 KB of RSS (TLS buffers mostly;
 * measured with 100 watches), so per namespace pays only while those namespaces are at most
 * `maxNamespaces` and at most half of the cluster's: when most namespaces hold ExternalSecrets,
 * the objects a cluster-wide cache would add are few. It goes back to per-namespace at half of
 * each bound, so a count near a bound does not flap. A switch keeps serving from the informers it
 * replaces until the new ones have listed.
 *
 * Written here: client-node's informers watch one namespace or all, and nothing in it follows a
 * set of namespaces that changes while it runs.
 */
import type { Informer, KubeObject } from './kube-port.js';

export interface NamespaceScopeOptions {
  /** Whether `namespace` still holds what the caches are kept for. */
  holds: (namespace: string) => boolean;
  /** Per-namespace informers for at most this many namespaces; 0: always cluster-wide. */
  maxNamespaces: number;
  /** How many namespaces the cluster has, when known: per namespace only for at most half of them. */
  clusterNamespaces?: () => number | undefined;
  /** Told when the caches switch between per-namespace and cluster-wide. */
  onSwitch?: (clusterWide: boolean, namespaces: number) => void;
}

export class NamespaceScope {
  private readonly current = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly followers: (() => void)[] = [];
  private wide: boolean;
  private scheduled = false;

  constructor(private readonly opts: NamespaceScopeOptions) {
    this.wide = opts.maxNamespaces <= 0;
  }

  get clusterWide(): boolean {
    return this.wide;
  }

  namespaces(): ReadonlySet<string> {
    return this.current;
  }

  has(namespace: string): boolean {
    return this.current.has(namespace);
  }

  onChange(follower: () => void): void {
    this.followers.push(follower);
  }

  /**
   * Something in `namespace` came or went. Looked at once the current task's events are through:
   * the first list of 10,000 ExternalSecrets asks `holds` once per namespace, not per object.
   */
  touch(namespace: string): void {
    this.dirty.add(namespace);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.settle());
  }

  /** The cluster's namespaces came or went: the choice between per-namespace and cluster-wide is made again. */
  recount(): void {
    if (this.chooseMode()) for (const follow of this.followers) follow();
  }

  /** Applies what `touch` collected, now. */
  settle(): void {
    this.scheduled = false;
    let changed = false;
    for (const namespace of this.dirty) {
      const holds = this.opts.holds(namespace);
      if (holds === this.current.has(namespace)) continue;
      changed = true;
      if (holds) this.current.add(namespace);
      else this.current.delete(namespace);
    }
    this.dirty.clear();
    if (this.chooseMode() || changed) for (const follow of this.followers) follow();
  }

  /** Whether the caches go cluster-wide; true when that changed. */
  private chooseMode(): boolean {
    const count = this.current.size;
    const max = this.opts.maxNamespaces;
    const all = this.opts.clusterNamespaces?.();
    const over = (share: number) => count > max * share || (all !== undefined && count > (all / 2) * share);
    const wide = max <= 0 || over(1) || (this.wide && over(1 / 2));
    if (wide === this.wide) return false;
    this.wide = wide;
    this.opts.onSwitch?.(wide, count);
    return true;
  }
}

export interface ScopedInformer<T extends KubeObject> extends Informer<T> {
  /** Whether the cache holds `namespace`'s objects (a namespace that just came into scope lists first). */
  syncedFor(namespace: string): boolean;
  /** Resolves true once `syncedFor(namespace)`, false after `timeoutMs` or when `namespace` is out of scope. */
  whenSynced(namespace: string, timeoutMs: number): Promise<boolean>;
}

/**
 * An informer over the scope's namespaces; `make(undefined)` is the cluster-wide one. Reads
 * without a namespace cover every namespace in scope. Handlers are attached to every informer it
 * makes, so an object is reported as added again when another informer takes over its namespace.
 */
export function scopedInformer<T extends KubeObject>(
  scope: NamespaceScope, make: (namespace: string | undefined) => Informer<T>,
): ScopedInformer<T> {
  return new ScopedCache(scope, make);
}

interface Member<T extends KubeObject> {
  informer: Informer<T>;
  listed: Promise<void>;
}

type Event = 'add' | 'update' | 'delete';
type Handler<T> = (obj: T, old?: T) => void;

class ScopedCache<T extends KubeObject> implements ScopedInformer<T> {
  private readonly byNamespace = new Map<string, Member<T>>();
  private readonly handlers: [Event, Handler<T>][] = [];
  private wide?: Member<T>;
  private running = false;
  private synced = false;

  constructor(private readonly scope: NamespaceScope, private readonly make: (namespace: string | undefined) => Informer<T>) {
    scope.onChange(() => {
      if (this.running) this.follow();
    });
  }

  async start(): Promise<void> {
    this.running = true;
    this.scope.settle();
    this.follow();
    await Promise.all(this.members().map((m) => m.listed));
    this.synced = this.running;
  }

  stop(): void {
    this.running = false;
    this.synced = false;
    for (const m of this.members()) m.informer.stop();
    this.byNamespace.clear();
    this.wide = undefined;
  }

  /** Synced once the namespaces in scope at start have listed; a namespace added later does not unsettle it. */
  hasSynced(): boolean {
    return this.synced;
  }

  syncedFor(namespace: string): boolean {
    return this.source(namespace)?.hasSynced() ?? false;
  }

  async whenSynced(namespace: string, timeoutMs: number): Promise<boolean> {
    this.scope.settle(); // an ExternalSecret that just arrived brings its namespace in now
    if (this.syncedFor(namespace)) return true;
    const member = this.byNamespace.get(namespace) ?? this.wide;
    if (!member) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([member.listed.then(() => this.syncedFor(namespace)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get(name: string, namespace?: string): T | undefined {
    return namespace === undefined ? undefined : this.source(namespace)?.get(name, namespace);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return this.source(namespace)?.list(namespace) ?? [];
    if (this.wide?.informer.hasSynced()) return this.wide.informer.list();
    return [...this.byNamespace.values()].flatMap((m) => m.informer.list());
  }

  on(event: Event, handler: Handler<T>): void {
    this.handlers.push([event, handler]);
    for (const m of this.members()) m.informer.on(event, handler);
  }

  /** The cluster-wide informer once it has listed, else the namespace's own. */
  private source(namespace: string): Informer<T> | undefined {
    if (this.wide?.informer.hasSynced()) return this.wide.informer;
    return this.byNamespace.get(namespace)?.informer;
  }

  private members(): Member<T>[] {
    const all = [...this.byNamespace.values()];
    return this.wide ? [...all, this.wide] : all;
  }

  private member(namespace: string | undefined): Member<T> {
    const informer = this.make(namespace);
    for (const [event, handler] of this.handlers) informer.on(event, handler);
    return { informer, listed: informer.start() };
  }

  /** Brings the informers in line with the scope. */
  private follow(): void {
    if (this.scope.clusterWide) {
      if (this.wide) return;
      const wide = (this.wide = this.member(undefined));
      // The namespaces' informers serve until the cluster-wide one has listed.
      void wide.listed.then(() => {
        if (this.wide !== wide) return;
        for (const m of this.byNamespace.values()) m.informer.stop();
        this.byNamespace.clear();
      });
      return;
    }
    for (const [namespace, m] of this.byNamespace) {
      if (this.scope.has(namespace)) continue;
      m.informer.stop();
      this.byNamespace.delete(namespace);
    }
    for (const namespace of this.scope.namespaces()) {
      if (!this.byNamespace.has(namespace)) this.byNamespace.set(namespace, this.member(namespace));
    }
    const wide = this.wide;
    if (!wide) return;
    // Back to per-namespace: the cluster-wide informer serves until every namespace has listed.
    void Promise.all([...this.byNamespace.values()].map((m) => m.listed)).then(() => {
      if (this.wide !== wide || this.scope.clusterWide) return;
      wide.informer.stop();
      this.wide = undefined;
    });
  }
}
