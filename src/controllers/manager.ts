/**
 * Wires the informers, queues and reconcilers together. Event handlers only enqueue keys; the
 * reconcilers read current state from the caches.
 */
import { Annotations, Labels } from '../api/constants.js';
import { LockstepResources } from '../api/resources.js';
import { CoreResources, emptyInformer, objectKey, type Informer, type KubeClient, type KubeObject, type Resource } from '../kube/kube-port.js';
import { StringPool } from '../kube/string-pool.js';
import { mergeNamespaceInformers } from '../kube/multi-namespace-informer.js';
import { NamespaceScope, scopedInformer, type ScopedInformer } from '../kube/namespace-scope.js';
import type { Logger } from '../observability/logger.js';
import type { SyncMetrics } from '../observability/metrics.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';
import { ClientCache } from '../providers/client-cache.js';
import { loadApiSchemas, loadedApiSchemas } from '../api/schema-loader.js';
import type { CacheScope, StoreRound } from '../observability/metrics.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';
import type { Clock } from '../runtime/clock.js';
import { runController } from '../runtime/controller.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import { Priority, WorkQueue } from '../runtime/work-queue.js';
import { buildCachedExternalSecret } from './cached-external-secret.js';
import { EventRecorder } from './event-recorder.js';
import { ExternalSecretReconciler } from './external-secret/external-secret-reconciler.js';
import { SecretIndexOptions } from './external-secret/secret-index.js';
import { toCachedSecret } from './external-secret/secret-digest.js';
import { SecretStoreReconciler } from './secret-store/secret-store-reconciler.js';
import type { RolloutMetrics } from '../observability/metrics.js';
import { planRollout } from './rollout/rollout-planner.js';
import { pendingRolloutOf, RolloutReconciler, rolloutKey, type RolloutOptions } from './rollout/rollout-reconciler.js';
import { parseWorkloadId, WorkloadResources, type WorkloadInformers } from './rollout/workloads.js';
import { buildWorkloadEntry } from './rollout/workload-entry.js';
import type { WorkloadKind } from '../api/external-secret.js';
import { parseOnce } from '../api/parse-once.js';

export interface InformerFactoryOptions {
  namespace?: string;
  labelSelector?: string;
  /** List and watch PartialObjectMetadata (no spec, no data). */
  metadataOnly?: boolean;
  /** Trims every object before it is cached (see `InformerOptions.transform`). */
  transform?: (obj: KubeObject) => KubeObject;
  /** Keep only which objects exist, by namespace and name (see `InformerOptions.namesOnly`). */
  namesOnly?: boolean;
}

export type InformerFactory = (res: Resource, opts: InformerFactoryOptions) => Informer<KubeObject>;

export interface ManagerDeps {
  kube: KubeClient;
  informerFactory: InformerFactory;
  registry: ProviderRegistry;
  clients: ClientCache;
  clock: Clock;
  log: Logger;
  scrubber: SecretScrubber;
  syncMetrics: SyncMetrics;
  runtimeMetrics: RuntimeMetrics;
  rolloutMetrics: RolloutMetrics;
  hashKey: Uint8Array;
  /** Workload kinds to restart on rotation (Rollout only when its CRD is installed); empty: rollouts off. */
  workloadKinds: WorkloadKind[];
  options: {
    rollout: RolloutOptions;
    /** Namespaces to watch; undefined: all. */
    namespaces?: readonly string[];
    /** Serve ClusterSecretStores (default true); off, nothing cluster-scoped is listed or watched. */
    clusterStores?: boolean;
    /**
     * Watching all namespaces: keep the index of every Secret and the workload caches for at most
     * this many namespaces holding ExternalSecrets, one informer each; above it, cluster-wide
     * (namespace-scope.ts). 0: always cluster-wide. Default 32.
     */
    scopedCachesMaxNamespaces?: number;
    workers: number;
    providerTimeoutMs: number;
    errorRequeueMs: number;
    storeRevalidateMs: number;
  };
}

export class Manager {
  readonly informers;
  private readonly esQueue: WorkQueue;
  private readonly storeQueue: WorkQueue;
  private readonly clusterStoreQueue: WorkQueue;
  private readonly esReconciler: ExternalSecretReconciler;
  private readonly storeReconciler: SecretStoreReconciler;
  private readonly clusterStoreReconciler: SecretStoreReconciler;
  private readonly rolloutQueue: WorkQueue;
  private readonly rolloutReconciler: RolloutReconciler;
  private readonly workloads: WorkloadInformers = {};
  /** Caches of kinds an add-on provides (Argo Rollouts): they never hold up readiness or reconciling. */
  private readonly optionalInformers = new Set<Informer<KubeObject>>();
  /** Watching all namespaces: the namespaces holding ExternalSecrets, which the caches below follow. */
  private readonly scope?: NamespaceScope;
  /** The caches kept only for the scope's namespaces (the Secret index, the workloads). */
  private readonly scoped: ScopedInformer<KubeObject>[] = [];

  constructor(private readonly deps: ManagerDeps) {
    const watched = (res: Resource, opts: Omit<InformerFactoryOptions, 'namespace'> = {}) => namespacedInformer(deps, res, opts);
    const maxNamespaces = deps.options.scopedCachesMaxNamespaces ?? 32;
    if (deps.options.namespaces === undefined && maxNamespaces > 0) {
      this.scope = new NamespaceScope({
        holds: (namespace) => this.informers.externalSecrets.list(namespace).length > 0,
        maxNamespaces,
        // Known once listed; listed before the scoped caches start (see the order below).
        clusterNamespaces: () => (this.informers.namespaces.hasSynced() && !this.informers.clusterStoresDisabled
          ? this.informers.namespaces.list().length : undefined),
        onSwitch: (clusterWide, count) => deps.log.info({ namespaces: count }, clusterWide
          ? 'namespaces with ExternalSecrets above --scoped-caches-max-namespaces: Secret index and workloads cached cluster-wide'
          : 'namespaces with ExternalSecrets back within --scoped-caches-max-namespaces: Secret index and workloads cached per namespace'),
      });
    }
    /** A cache read only in namespaces that hold ExternalSecrets. */
    const followed = (res: Resource, opts: Omit<InformerFactoryOptions, 'namespace'>) => {
      if (!this.scope) return watched(res, opts);
      const informer = scopedInformer(this.scope, (namespace) => deps.informerFactory(res, { ...opts, namespace }));
      this.scoped.push(informer);
      return informer;
    };
    const clusterScoped = deps.options.clusterStores ?? true;
    const strings = new StringPool();
    this.informers = {
      // Without the metadata nobody reads, and with repeated strings held once (~300 bytes less each).
      externalSecrets: watched(LockstepResources.externalSecret, { transform: (obj) => buildCachedExternalSecret(obj, strings) }),
      // Listed before the caches that follow the namespaces holding ExternalSecrets: how many there
      // are of all decides whether those caches are kept per namespace.
      namespaces: clusterScoped ? deps.informerFactory(CoreResources.namespace, {}) : emptyInformer(),
      // Full objects only of the Secrets we write; every Secret by name only in the index.
      // Their values are held as digests (secret-digest.ts): the rendered values are the one copy.
      secrets: watched(CoreResources.secret, { labelSelector: `${Labels.managed}=true`, transform: (obj) => toCachedSecret(deps.hashKey, obj) }),
      secretIndex: followed(CoreResources.secret, SecretIndexOptions),
      stores: watched(LockstepResources.secretStore),
      clusterStores: clusterScoped ? deps.informerFactory(LockstepResources.clusterSecretStore, {}) : emptyInformer(),
      clusterStoresDisabled: !clusterScoped,
    };
    for (const kind of deps.workloadKinds) {
      // Trimmed to what restarts read: a cluster's Deployments we never restart stay cheap.
      const informer = followed(WorkloadResources[kind], { transform: buildWorkloadEntry });
      this.workloads[kind] = informer;
      if (OPTIONAL_KINDS.has(kind)) this.optionalInformers.add(informer);
    }
    const queue = (name: string) => new WorkQueue({ name, clock: deps.clock, metrics: deps.runtimeMetrics });
    this.esQueue = queue('externalsecret');
    this.storeQueue = queue('secretstore');
    this.clusterStoreQueue = queue('clustersecretstore');
    const events = new EventRecorder({ kube: deps.kube, log: deps.log, scrubber: deps.scrubber });
    this.rolloutQueue = queue('rollout');
    this.rolloutReconciler = new RolloutReconciler({
      ...deps,
      externalSecrets: this.informers.externalSecrets,
      workloads: this.workloads,
      workloadsSynced: this.scope ? (kind, namespace) => this.workloadsSynced(kind, namespace) : undefined,
      events,
      metrics: deps.rolloutMetrics,
      options: deps.options.rollout,
    });
    this.esReconciler = new ExternalSecretReconciler({
      ...deps,
      informers: this.informers,
      events,
      metrics: deps.syncMetrics,
      planRollout: deps.workloadKinds.length > 0 ? (input) => planRollout(this.workloads, input) : undefined,
      cachesReady: this.scope ? (namespace) => this.cachesReady(namespace) : undefined,
      options: { providerTimeoutMs: deps.options.providerTimeoutMs, errorRequeueMs: deps.options.errorRequeueMs },
    });
    const storeDeps = {
      ...deps,
      events,
      options: { providerTimeoutMs: deps.options.providerTimeoutMs, revalidateMs: deps.options.storeRevalidateMs },
    };
    this.storeReconciler = new SecretStoreReconciler({
      ...storeDeps, kind: 'SecretStore', resource: LockstepResources.secretStore, informer: this.informers.stores,
    });
    this.clusterStoreReconciler = new SecretStoreReconciler({
      ...storeDeps, kind: 'ClusterSecretStore', resource: LockstepResources.clusterSecretStore, informer: this.informers.clusterStores,
    });
    this.registerHandlers();
  }

  /** Starts every informer; resolves when all caches hold their first list. */
  private allInformers(): Informer<KubeObject>[] {
    const caches = Object.values(this.informers).filter((i): i is Informer<KubeObject> => typeof i === 'object');
    return [...caches, ...Object.values(this.workloads)];
  }

  /**
   * Starts every informer; resolves when the required caches hold their first list. An optional
   * kind whose list keeps failing (its CRD was removed after we looked) is retried in the
   * background: until it lists, its workloads are simply not found. The required caches list one
   * after another: the first lists of a big cluster (20,000 Secrets, 10,000 Deployments) parsed at
   * once made the heap, and the peak RSS, grow by what they held together (~5 MB at that size).
   */
  async startInformers(): Promise<void> {
    const required = this.allInformers().filter((i) => !this.optionalInformers.has(i));
    for (const informer of this.optionalInformers) void informer.start();
    for (const informer of required) await informer.start();
    // Lockstep's objects are parsed with the API's schemas, loaded with the first object (see
    // schema-loader.ts): once the caches are synced, whatever reads them finds the schemas loaded.
    const { externalSecrets, stores, clusterStores } = this.informers;
    if ([externalSecrets, stores, clusterStores].some((i) => i.list().length > 0)) await loadApiSchemas();
  }

  hasSynced(): boolean {
    return this.allInformers().every((i) => this.optionalInformers.has(i) || i.hasSynced());
  }

  stopInformers(): void {
    for (const i of this.allInformers()) i.stop();
  }

  /** Runs the controllers until `signal` aborts. Call only while leading. */
  async run(signal: AbortSignal): Promise<void> {
    // Everything in the caches is nominated once; the reconcilers decide what is due.
    for (const es of this.informers.externalSecrets.list()) this.esQueue.add(objectKey(es.metadata), esPriority(es));
    for (const s of this.informers.stores.list()) this.storeQueue.add(objectKey(s.metadata), Priority.High);
    for (const s of this.informers.clusterStores.list()) this.clusterStoreQueue.add(objectKey(s.metadata), Priority.High);
    for (const es of this.informers.externalSecrets.list()) this.enqueueRestarts(es);
    const common = { log: this.deps.log, metrics: this.deps.runtimeMetrics, signal, clock: this.deps.clock };
    // An ExternalSecret's key is the scrubber owner of the values its reconciles fetch: the string
    // the queue already holds (a prefixed copy was ~0.3 MB at 10,000). A key has one slash, so it is
    // never a store's owner (`store/KIND/…@VERSION`) or the unowned ''.
    await Promise.all([
      runController({ ...common, name: 'externalsecret', queue: this.esQueue, workers: this.deps.options.workers, reconcile: (k) => this.deps.scrubber.withOwner(k, () => this.esReconciler.reconcile(k)) }),
      runController({ ...common, name: 'secretstore', queue: this.storeQueue, workers: 2, reconcile: (k) => this.storeReconciler.reconcile(k) }),
      runController({ ...common, name: 'clustersecretstore', queue: this.clusterStoreQueue, workers: 1, reconcile: (k) => this.clusterStoreReconciler.reconcile(k) }),
      runController({ ...common, name: 'rollout', queue: this.rolloutQueue, workers: 2, reconcile: (k) => this.rolloutReconciler.reconcile(k) }),
    ]);
  }

  shutdown(): void {
    for (const q of [this.esQueue, this.storeQueue, this.clusterStoreQueue, this.rolloutQueue]) q.shutdown();
  }

  /** Each store's last complete refresh round: this process's, else what the store's status says. */
  refreshRounds(): StoreRound[] {
    const seen = new Map(this.esReconciler.refreshes.completedRounds().map((r) => [r.store, r.time]));
    // Loaded once a store is cached (registerHandlers); a store added since may be read before.
    const schemas = loadedApiSchemas();
    const fromStatus = (kind: 'SecretStore' | 'ClusterSecretStore', s: KubeObject) => {
      const key = ClientCache.storeKey({ kind, name: s.metadata.name ?? '', namespace: s.metadata.namespace });
      if (seen.has(key) || !schemas) return;
      const time = Date.parse(parseOnce(schemas.SecretStoreStatus, s['status'] ?? {}).data?.refresh?.time ?? '');
      if (Number.isFinite(time)) seen.set(key, time);
    };
    for (const s of this.informers.stores.list()) fromStatus('SecretStore', s);
    for (const s of this.informers.clusterStores.list()) fromStatus('ClusterSecretStore', s);
    return [...seen].map(([store, time]) => ({ store, time }));
  }

  /** How the Secret index and workload caches follow the namespaces holding ExternalSecrets; undefined with --namespace or a limit of 0. */
  cacheScope(): CacheScope | undefined {
    return this.scope && { clusterWide: this.scope.clusterWide, namespaces: this.scope.namespaces().size };
  }

  queueDepth(): number {
    return this.esQueue.len();
  }

  private registerHandlers(): void {
    const { externalSecrets, secrets, stores, clusterStores, namespaces } = this.informers;
    // The first object of our kinds loads the API's schemas (a reconcile would wait for them).
    const loadSchemas = () => loadApiSchemas().catch((err: unknown) => this.deps.log.error({ err }, 'cannot load the API schemas'));
    for (const informer of [externalSecrets, stores, clusterStores]) informer.on('add', () => void loadSchemas());
    const scope = this.scope;
    if (scope) {
      // The namespaces holding ExternalSecrets are the ones whose Secrets and workloads are cached.
      externalSecrets.on('add', (es) => scope.touch(es.metadata.namespace ?? ''));
      externalSecrets.on('delete', (es) => scope.touch(es.metadata.namespace ?? ''));
      namespaces.on('add', () => scope.recount());
      namespaces.on('delete', () => scope.recount());
    }
    externalSecrets.on('add', (es) => this.esQueue.add(objectKey(es.metadata), esPriority(es)));
    externalSecrets.on('update', (es) => this.enqueueRestarts(es));
    externalSecrets.on('update', (es, old) => {
      // Our own status writes come back here too: only spec and force-sync changes are work.
      if (old && es.metadata.generation === old.metadata.generation && forceSync(es) === forceSync(old)) return;
      this.esQueue.add(objectKey(es.metadata), Priority.High);
    });
    externalSecrets.on('delete', (es) => {
      this.esReconciler.forget(objectKey(es.metadata));
      this.deps.scrubber.forget(objectKey(es.metadata)); // its values leave the scrubber's memory
    });

    const restore = (secret: KubeObject, old?: KubeObject) => {
      const owner = secret.metadata.annotations?.[Annotations.owner];
      if (owner) this.esQueue.add(owner, Priority.High);
      // Two ExternalSecrets that raced to create one Secret: the one whose write was overwritten
      // must look again, and find it is no longer the owner (TargetConflict).
      const previous = old?.metadata.annotations?.[Annotations.owner];
      if (previous && previous !== owner) this.esQueue.add(previous, Priority.High);
    };
    secrets.on('update', restore);
    secrets.on('delete', restore);

    const onStore = (kind: 'SecretStore' | 'ClusterSecretStore', queue: WorkQueue) => (s: KubeObject, old?: KubeObject) => {
      // Our own status writes come back as updates: only a new spec (or an add or delete) is store
      // work; the revalidation timer covers the rest.
      const specChanged = !old || old.metadata.generation !== s.metadata.generation;
      if (specChanged) queue.add(objectKey(s.metadata), Priority.High);
      if (!specChanged && old && readyOf(old) === readyOf(s)) return;
      this.enqueueUsersOf(kind, s.metadata.name ?? '', s.metadata.namespace);
    };
    for (const ev of ['add', 'update', 'delete'] as const) {
      stores.on(ev, onStore('SecretStore', this.storeQueue));
      clusterStores.on(ev, onStore('ClusterSecretStore', this.clusterStoreQueue));
    }
    namespaces.on('update', (ns, old) => {
      if (JSON.stringify(ns.metadata.labels ?? {}) === JSON.stringify(old?.metadata.labels ?? {})) return;
      for (const es of externalSecrets.list(ns.metadata.name)) {
        if (storeRefOf(es).kind === 'ClusterSecretStore') this.esQueue.add(objectKey(es.metadata), Priority.High);
      }
    });
  }

  /**
   * Whether the caches kept per namespace hold `namespace` (an add-on's kind aside: its cache may
   * never list); waits up to CACHE_WAIT_MS while a namespace whose first ExternalSecret just came lists.
   */
  private async cachesReady(namespace: string): Promise<boolean> {
    const required = this.scoped.filter((i) => !this.optionalInformers.has(i));
    if (required.every((i) => i.syncedFor(namespace))) return true;
    const ready = await Promise.all(required.map((i) => i.whenSynced(namespace, CACHE_WAIT_MS)));
    return ready.every(Boolean);
  }

  private workloadsSynced(kind: WorkloadKind, namespace: string): boolean {
    const informer = this.workloads[kind];
    if (!informer || this.optionalInformers.has(informer)) return true;
    return (informer as ScopedInformer<KubeObject>).syncedFor(namespace);
  }

  /** Nominates the workloads an ExternalSecret still owes restarts to. */
  private enqueueRestarts(es: KubeObject): void {
    for (const id of pendingRolloutOf(es)?.workloads ?? []) {
      const { kind, name } = parseWorkloadId(id);
      this.rolloutQueue.add(rolloutKey(kind, es.metadata.namespace ?? '', name), Priority.High);
    }
  }

  private enqueueUsersOf(kind: string, name: string, namespace: string | undefined): void {
    for (const es of this.informers.externalSecrets.list(namespace)) {
      const ref = storeRefOf(es);
      if (ref.kind === kind && ref.name === name) this.esQueue.add(objectKey(es.metadata), Priority.High);
    }
  }
}

/** How long a reconcile waits for a namespace's caches to list before it is retried. */
const CACHE_WAIT_MS = 10_000;

/** Workload kinds that come from an add-on whose CRD may come and go. */
const OPTIONAL_KINDS: ReadonlySet<WorkloadKind> = new Set(['Rollout']);

/** A cache of a namespaced kind over the watched namespaces: all, one, or one informer per namespace merged. */
function namespacedInformer(deps: ManagerDeps, res: Resource, opts: Omit<InformerFactoryOptions, 'namespace'>): Informer<KubeObject> {
  const namespaces = deps.options.namespaces ?? [];
  if (namespaces.length <= 1) return deps.informerFactory(res, { ...opts, namespace: namespaces[0] });
  return mergeNamespaceInformers(new Map(namespaces.map((namespace) => [namespace, deps.informerFactory(res, { ...opts, namespace })])));
}

function storeRefOf(es: KubeObject): { kind: string; name?: string } {
  const ref = (es['spec'] as { secretStoreRef?: { kind?: string; name?: string } } | undefined)?.secretStoreRef;
  return { kind: ref?.kind ?? 'SecretStore', name: ref?.name };
}

function forceSync(obj: KubeObject): string | undefined {
  return obj.metadata.annotations?.[Annotations.forceSync];
}

function readyOf(obj: KubeObject): string {
  const conditions = (obj['status'] as { conditions?: { type: string; status: string; message?: string }[] } | undefined)?.conditions;
  const ready = conditions?.find((c) => c.type === 'Ready');
  return `${ready?.status}/${ready?.message}`;
}

/** Never-synced and spec-changed objects go ahead of periodic refreshes. */
function esPriority(es: KubeObject): Priority {
  const status = es['status'] as { syncedResourceVersion?: string; conditions?: { type: string; observedGeneration?: number }[] } | undefined;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  const synced = status?.syncedResourceVersion !== undefined && ready?.observedGeneration === es.metadata.generation;
  return synced ? Priority.Normal : Priority.High;
}

