import type { Informer, KubeObject } from './kube-port.js';
import { NamespaceScope, scopedInformer } from './namespace-scope.js';

/** The objects a fake API server holds, by namespace. */
const cluster: Record<string, string[]> = {
  'team-a': ['db', 'api'],
  'team-b': ['db'],
  'team-c': ['cache'],
  unrelated: ['x', 'y', 'z'],
};

interface FakeInformer extends Informer<KubeObject> {
  namespace?: string;
  stopped: boolean;
  /** Completes the list (informers made with `manual` list only when told). */
  finishList(): void;
}

/** Informers over `cluster`, one namespace or all; each made one is recorded. */
function fakeFactory(opts: { manual?: boolean } = {}) {
  const made: FakeInformer[] = [];
  const make = (namespace: string | undefined): FakeInformer => {
    const objects = Object.entries(cluster)
      .filter(([ns]) => namespace === undefined || ns === namespace)
      .flatMap(([ns, names]) => names.map((name) => ({ metadata: { name, namespace: ns } })));
    const handlers: ((o: KubeObject) => void)[] = [];
    let synced = false;
    let listed: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (listed = resolve));
    const informer: FakeInformer = {
      namespace,
      stopped: false,
      start: () => {
        if (!opts.manual) informer.finishList();
        return done;
      },
      finishList: () => {
        synced = true;
        for (const o of objects) for (const h of handlers) h(o);
        listed();
      },
      stop() { this.stopped = true; listed(); },
      hasSynced: () => synced,
      get: (name, ns) => (synced ? objects.find((o) => o.metadata.name === name && o.metadata.namespace === ns) : undefined),
      list: (ns) => (synced ? objects.filter((o) => ns === undefined || o.metadata.namespace === ns) : []),
      on: (_event, h) => { handlers.push(h); },
    };
    made.push(informer);
    return informer;
  };
  const live = () => made.filter((i) => !i.stopped).map((i) => i.namespace ?? '(all)').sort();
  return { make, made, live };
}

/** A scope over a set of namespaces the test changes, as ExternalSecrets come and go. */
function scopeOver(holding: Set<string>, maxNamespaces: number) {
  const switches: string[] = [];
  const scope = new NamespaceScope({
    holds: (ns) => holding.has(ns),
    maxNamespaces,
    onSwitch: (wide, count) => switches.push(`${wide ? 'cluster-wide' : 'per-namespace'} at ${count}`),
  });
  const move = (change: () => void, namespaces: string[]) => {
    change();
    for (const ns of namespaces) scope.touch(ns);
    scope.settle();
  };
  return { scope, switches, move };
}

const names = (objects: KubeObject[]) => objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();

describe('scopedInformer', () => {
  test('caches only the namespaces that hold what the scope is kept for, and follows them as they change', async () => {
    const holding = new Set(['team-a', 'team-b']);
    const { scope, move } = scopeOver(holding, 8);
    for (const ns of holding) scope.touch(ns);
    const { make, live } = fakeFactory();
    const cache = scopedInformer(scope, make);
    const added: string[] = [];
    cache.on('add', (o) => added.push(`${o.metadata.namespace}/${o.metadata.name}`));

    await cache.start();
    expect(cache.hasSynced()).toBe(true);
    expect(live()).toEqual(['team-a', 'team-b']);
    expect(names(cache.list())).toEqual(['team-a/api', 'team-a/db', 'team-b/db']);
    expect(cache.get('db', 'team-b')?.metadata.namespace).toBe('team-b');
    expect(cache.get('x', 'unrelated')).toBeUndefined();
    expect(cache.list('unrelated')).toEqual([]);
    expect(cache.syncedFor('team-c')).toBe(false);

    move(() => holding.add('team-c'), ['team-c']);
    expect(live()).toEqual(['team-a', 'team-b', 'team-c']);
    expect(await cache.whenSynced('team-c', 1_000)).toBe(true);
    expect(names(cache.list('team-c'))).toEqual(['team-c/cache']);
    expect(added).toContain('team-c/cache');

    move(() => holding.delete('team-a'), ['team-a']);
    expect(live()).toEqual(['team-b', 'team-c']);
    expect(cache.list('team-a')).toEqual([]);
    expect(await cache.whenSynced('team-a', 1_000)).toBe(false);
    expect(cache.hasSynced()).toBe(true); // a namespace coming or going does not unsettle readiness

    cache.stop();
    expect(live()).toEqual([]);
  });

  test('above the limit one cluster-wide informer takes over once it has listed, and hands back below half of it', async () => {
    const holding = new Set(['team-a']);
    const { scope, switches, move } = scopeOver(holding, 2);
    scope.touch('team-a');
    const { make, made, live } = fakeFactory({ manual: true });
    const cache = scopedInformer(scope, make);
    const started = cache.start();
    made[0]?.finishList();
    await started;
    expect(live()).toEqual(['team-a']);

    move(() => { holding.add('team-b'); holding.add('team-c'); }, ['team-b', 'team-c']);
    expect(switches).toEqual(['cluster-wide at 3']);
    expect(live()).toEqual(['(all)', 'team-a']);
    // Until the cluster-wide informer has listed, the namespace's own one serves.
    expect(names(cache.list('team-a'))).toEqual(['team-a/api', 'team-a/db']);
    expect(cache.syncedFor('team-b')).toBe(false);
    const waiting = cache.whenSynced('team-b', 5_000);
    made.find((i) => i.namespace === undefined)?.finishList();
    expect(await waiting).toBe(true);
    await Promise.resolve();
    expect(live()).toEqual(['(all)']);
    expect(names(cache.list('team-c'))).toEqual(['team-c/cache']);

    // Two namespaces is still above half the limit: no flapping back.
    move(() => holding.delete('team-c'), ['team-c']);
    expect(live()).toEqual(['(all)']);
    move(() => holding.delete('team-b'), ['team-b']);
    expect(switches).toEqual(['cluster-wide at 3', 'per-namespace at 1']);
    expect(live()).toEqual(['(all)', 'team-a']);
    expect(names(cache.list('team-a'))).toEqual(['team-a/api', 'team-a/db']); // from the cluster-wide one still
    made.filter((i) => i.namespace === 'team-a').at(-1)?.finishList();
    await new Promise((resolve) => setImmediate(resolve));
    expect(live()).toEqual(['team-a']);
    expect(names(cache.list())).toEqual(['team-a/api', 'team-a/db']);
  });

  test('whenSynced gives up after its timeout while a namespace has not listed', async () => {
    const holding = new Set(['team-a']);
    const { scope } = scopeOver(holding, 8);
    scope.touch('team-a');
    const { make } = fakeFactory({ manual: true });
    const cache = scopedInformer(scope, make);
    void cache.start();
    expect(await cache.whenSynced('team-a', 20)).toBe(false);
    cache.stop();
  });

  test('a limit of 0 caches cluster-wide from the start', async () => {
    const { scope } = scopeOver(new Set(), 0);
    const { make, live } = fakeFactory();
    const cache = scopedInformer(scope, make);
    await cache.start();
    expect(live()).toEqual(['(all)']);
    expect(names(cache.list('unrelated'))).toEqual(['unrelated/x', 'unrelated/y', 'unrelated/z']);
  });
});

describe('NamespaceScope', () => {
  test('per namespace only while the namespaces holding ExternalSecrets are at most half of the cluster\'s', () => {
    const holding = new Set(['a', 'b', 'c']);
    let all: number | undefined;
    const switches: string[] = [];
    const scope = new NamespaceScope({
      holds: (ns) => holding.has(ns), maxNamespaces: 32, clusterNamespaces: () => all,
      onSwitch: (wide, count) => switches.push(`${wide ? 'cluster-wide' : 'per-namespace'} at ${count}`),
    });
    for (const ns of holding) scope.touch(ns);
    scope.settle();
    expect(scope.clusterWide).toBe(false); // not known yet: the count limit alone
    all = 5;
    scope.recount();
    expect(scope.clusterWide).toBe(true); // 3 of 5
    all = 7;
    scope.recount();
    expect(scope.clusterWide).toBe(true); // 3 of 7: above a quarter still, no flapping
    all = 12;
    scope.recount();
    expect(scope.clusterWide).toBe(false); // 3 of 12
    expect(switches).toEqual(['cluster-wide at 3', 'per-namespace at 3']);
  });


  test('asks once per namespace however many objects in it came or went', async () => {
    const asked: string[] = [];
    const scope = new NamespaceScope({ holds: (ns) => (asked.push(ns), true), maxNamespaces: 4 });
    let changes = 0;
    scope.onChange(() => changes++);
    for (let i = 0; i < 1000; i++) scope.touch(`ns-${i % 3}`);
    await Promise.resolve();
    expect(asked.sort()).toEqual(['ns-0', 'ns-1', 'ns-2']);
    expect([...scope.namespaces()].sort()).toEqual(['ns-0', 'ns-1', 'ns-2']);
    expect(changes).toBe(1);
    scope.touch('ns-0');
    scope.settle();
    expect(changes).toBe(1); // nothing changed
  });
});
