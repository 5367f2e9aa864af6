import { Registry } from 'prom-client';
import type { Informer, KubeClient, KubeObject, Resource } from '../kube/kube-port.js';
import { buildRolloutMetrics, buildSyncMetrics } from '../observability/metrics.js';
import { SecretScrubber } from '../observability/secret-scrubber.js';
import { ClientCache } from '../providers/client-cache.js';
import { ProviderRegistry } from '../providers/provider-registry.js';
import { FakeClock } from '../runtime/fake-clock.js';
import { buildRuntimeMetrics } from '../runtime/metrics.js';
import { buildMemoryLogger } from '../runtime/testing/memory-logger.js';
import { Manager } from './manager.js';
import type { WorkloadKind } from '../api/external-secret.js';

/** An informer whose first list completes only when the test says so (or never). */
class GatedInformer implements Informer<KubeObject> {
  private synced = false;
  private waiters: (() => void)[] = [];
  private readonly adds: ((obj: KubeObject) => void)[] = [];
  /** What the list brings. */
  readonly objects: KubeObject[] = [];
  started = false;

  constructor(readonly resource: Resource, readonly namespace?: string) {}

  start(): Promise<void> {
    this.started = true;
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  completeList(): void {
    this.synced = true;
    for (const obj of this.objects) for (const add of this.adds) add(obj);
    for (const w of this.waiters.splice(0)) w();
  }

  stop(): void {}
  hasSynced(): boolean {
    return this.synced;
  }
  get(): KubeObject | undefined {
    return undefined;
  }
  list(namespace?: string): KubeObject[] {
    return this.synced ? this.objects.filter((o) => namespace === undefined || o.metadata.namespace === namespace) : [];
  }
  on(event: string, handler: (obj: KubeObject) => void): void {
    if (event === 'add') this.adds.push(handler);
  }
}

function buildManager(workloadKinds: WorkloadKind[], namespaces?: string[], clusterStores?: boolean, scopedCachesMaxNamespaces?: number) {
  const informers: GatedInformer[] = [];
  const registry = new Registry();
  const { log } = buildMemoryLogger();
  const scrubber = new SecretScrubber();
  const clock = new FakeClock();
  const syncMetrics = buildSyncMetrics(registry);
  const manager = new Manager({
    kube: {} as KubeClient, // not called before run()
    informerFactory: (res, opts) => {
      const informer = new GatedInformer(res, opts.namespace);
      informers.push(informer);
      return informer;
    },
    registry: new ProviderRegistry({}),
    clients: new ClientCache({ log, scrubber, metrics: syncMetrics, clock, credentialsFor: () => ({}) as never }),
    clock,
    log,
    scrubber,
    syncMetrics,
    runtimeMetrics: buildRuntimeMetrics(registry),
    rolloutMetrics: buildRolloutMetrics(registry),
    hashKey: new Uint8Array(32),
    workloadKinds,
    options: {
      rollout: { windowMs: 1000, minIntervalMs: 0, maxInFlight: 10 },
      namespaces,
      clusterStores,
      scopedCachesMaxNamespaces,
      workers: 1,
      providerTimeoutMs: 1000,
      errorRequeueMs: 1000,
      storeRevalidateMs: 60_000,
    },
  });
  return { manager, informers };
}

describe('Manager caches', () => {
  it('is ready once the required caches listed, whatever an optional kind (Argo Rollouts) does', async () => {
    const { manager, informers } = buildManager(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'], undefined, undefined, 0);
    const rollouts = informers.find((i) => i.resource.plural === 'rollouts');
    expect(rollouts).toBeDefined();
    let started = false;
    const starting = manager.startInformers().then(() => (started = true));
    for (const i of informers) if (i !== rollouts) i.completeList();
    await starting;
    expect(started).toBe(true);
    expect(rollouts?.started).toBe(true); // still trying in the background
    expect(manager.hasSynced()).toBe(true);
  });

  it('waits for every required cache', async () => {
    const { manager, informers } = buildManager(['Deployment'], undefined, undefined, 0);
    let started = false;
    void manager.startInformers().then(() => (started = true));
    const deployments = informers.find((i) => i.resource.plural === 'deployments');
    for (const i of informers) if (i !== deployments) i.completeList();
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(false);
    expect(manager.hasSynced()).toBe(false);
    deployments?.completeList();
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(true);
    expect(manager.hasSynced()).toBe(true);
  });
});

describe('Manager namespaces', () => {
  const watched = (informers: GatedInformer[]) =>
    informers.map((i) => `${i.resource.plural}@${i.namespace ?? '*'}`).sort();

  it('with --scoped-caches-max-namespaces=0, watches every namespace with one cache per kind', () => {
    const { informers } = buildManager(['Deployment'], undefined, undefined, 0);
    expect(watched(informers)).toEqual(['clustersecretstores@*', 'deployments@*', 'externalsecrets@*', 'namespaces@*', 'secrets@*', 'secrets@*', 'secretstores@*']);
  });

  it('by default caches every Secret and workload only in the namespaces that hold ExternalSecrets', async () => {
    const { manager, informers } = buildManager(['Deployment']);
    expect(watched(informers)).toEqual(['clustersecretstores@*', 'externalsecrets@*', 'namespaces@*', 'secrets@*', 'secretstores@*']);
    const namespaces = informers.find((i) => i.resource.plural === 'namespaces');
    namespaces?.objects.push(...['team-a', 'team-b', 'team-c', 'default', 'kube-system'].map((name) => ({ metadata: { name } })));
    const externalSecrets = informers.find((i) => i.resource.plural === 'externalsecrets');
    externalSecrets?.objects.push(
      { metadata: { name: 'db', namespace: 'team-a' } },
      { metadata: { name: 'api', namespace: 'team-a' } },
      { metadata: { name: 'db', namespace: 'team-b' } },
    );
    let started = false;
    const starting = manager.startInformers().then(() => (started = true));
    for (let round = 0; round < 3; round++) {
      for (const i of informers) i.completeList(); // the scoped ones are made once the ExternalSecrets listed
      await new Promise((r) => setImmediate(r));
    }
    await starting;
    expect(started).toBe(true);
    expect(watched(informers)).toEqual([
      'clustersecretstores@*', 'deployments@team-a', 'deployments@team-b', 'externalsecrets@*', 'namespaces@*',
      'secrets@*', 'secrets@team-a', 'secrets@team-b', 'secretstores@*',
    ]);
    expect(manager.hasSynced()).toBe(true);
  });

  it('lists and watches namespaced kinds only in the given namespaces, one cache each; cluster-scoped kinds once', async () => {
    const { manager, informers } = buildManager(['Deployment'], ['team-a', 'team-b']);
    expect(watched(informers)).toEqual([
      'clustersecretstores@*', 'deployments@team-a', 'deployments@team-b', 'externalsecrets@team-a', 'externalsecrets@team-b',
      'namespaces@*', 'secrets@team-a', 'secrets@team-a', 'secrets@team-b', 'secrets@team-b', 'secretstores@team-a', 'secretstores@team-b',
    ]);
    const starting = manager.startInformers();
    for (const i of informers) i.completeList();
    await starting;
    expect(manager.hasSynced()).toBe(true);
  });

  it('with cluster stores off, lists and watches nothing cluster-scoped (namespaced Roles suffice)', async () => {
    const { manager, informers } = buildManager(['Deployment'], ['team-a'], false);
    expect(watched(informers)).toEqual(['deployments@team-a', 'externalsecrets@team-a', 'secrets@team-a', 'secrets@team-a', 'secretstores@team-a']);
    expect(manager.informers.clusterStoresDisabled).toBe(true);
    const starting = manager.startInformers();
    for (const i of informers) i.completeList();
    await starting;
    expect(manager.hasSynced()).toBe(true);
  });
});
