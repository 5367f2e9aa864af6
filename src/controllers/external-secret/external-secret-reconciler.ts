/**
 * Reconciles one ExternalSecret: resolve its store, read the provider when a refresh is due, render
 * the Secret, write it only when its keyed hash changed, and report status. Level-triggered: it reads
 * the current state from the caches and returns when to come back; it owns no timers.
 */
import { API_VERSION, Annotations, EventReasons, Reasons } from '../../api/constants.js';
import type { ExternalSecretSpec, ExternalSecretStatus } from '../../api/external-secret.js';
import { apiSchemas, loadApiSchemas } from '../../api/schema-loader.js';
import { LockstepResources } from '../../api/resources.js';
import { CoreResources, type Informer, type KubeClient, type KubeObject } from '../../kube/kube-port.js';
import { ForbiddenError, InvalidError } from '../../kube/kube-errors.js';
import type { Clock } from '../../runtime/clock.js';
import { computeBackoff } from '../../runtime/backoff.js';
import type { Logger } from '../../observability/logger.js';
import type { SecretScrubber } from '../../observability/secret-scrubber.js';
import type { SyncMetrics } from '../../observability/metrics.js';
import { ClientCache } from '../../providers/client-cache.js';
import type { SecretsClient } from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/provider-registry.js';
import { isProviderError, SecretNotFoundError } from '../../providers/provider-errors.js';
import { buildConditions, isTransition, type ReadyState } from '../conditions.js';
import type { EventRecorder } from '../event-recorder.js';
import { fetchSecretData } from './data-fetcher.js';
import {
  computeQueuedReadMaxAge, computeRefreshDelay, isFirstSync, isIncludedReadCurrent, type RefreshState, shouldRefresh, STORE_SPREAD_FRACTION,
} from './refresh-policy.js';
import { collectRoundReads, describeRefresh, forceSyncOf } from './refresh-round.js';
import { RefreshTracker, type RoundSummary } from './refresh-tracker.js';
import { findReady } from '../conditions.js';
import type { StoreIdentity } from '../../providers/client-cache.js';
import {
  buildDesiredSecret, computeDataHash, findInvalidKeys, findInvalidPatterns, renderTemplate, TemplateError, type DesiredSecret,
} from './secret-builder.js';
import { type CachedSecret, changedKeys, digestValue, holdsRendered, toCachedSecret } from './secret-digest.js';
import { resolveStore, type StoreInformers } from './store-resolver.js';
import type { RotationInput } from '../rollout/rollout-planner.js';
import { buildPendingRollout } from '../rollout/pending-rollout.js';
import type { RolloutMetrics } from '../../observability/metrics.js';
import { parseOnce } from '../../api/parse-once.js';
import { feedBounded } from '../../runtime/bounded-feed.js';
import { withDeadline } from '../../runtime/deadline.js';

/** How soon an ExternalSecret whose namespace's caches have not listed yet is looked at again. */
const CACHE_RETRY_MS = 1_000;

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface ExternalSecretReconcilerDeps {
  kube: KubeClient;
  /** `secrets`: the Secrets we manage, whole; `secretIndex`: every Secret, trimmed (secret-index.ts). */
  informers: StoreInformers & { externalSecrets: Informer<KubeObject>; secrets: Informer<KubeObject>; secretIndex: Informer<KubeObject> };
  registry: ProviderRegistry;
  clients: ClientCache;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  scrubber: SecretScrubber;
  metrics: SyncMetrics;
  /** Key of the HMAC stored in the data-hash annotation; persisted so restarts compute the same hashes. */
  hashKey: Uint8Array;
  /** Finds the workloads a rotation must restart; absent when rollouts are off. */
  planRollout?: (input: RotationInput) => string[];
  /**
   * Whether the caches kept per namespace (the Secret index, the workloads) hold the namespace's
   * objects; waits while a namespace whose first ExternalSecret just came lists. Absent: they always do.
   */
  cachesReady?: (namespace: string) => Promise<boolean>;
  rolloutMetrics?: RolloutMetrics;
  options: { providerTimeoutMs: number; errorRequeueMs: number };
}

/**
 * What we last rendered for an ExternalSecret. The values are held here and nowhere else in the
 * operator (the Secret cache holds digests, secret-digest.ts), so an edited Secret is restored
 * without a provider call.
 */
interface Rendered {
  specVersion: string;
  hash: string;
  /** The values by key, base64 as the API takes them. Absent when adopted from an intact Secret after a restart. */
  data?: Record<string, string>;
  /** Adopted: the digests of the values the Secret holds (restoring it then takes a provider read). */
  digests?: Record<string, string>;
  /** The force-sync annotation this was rendered for: a new value must bypass shared reads. */
  forceSync?: string;
}

interface SyncContext {
  key: string;
  es: KubeObject & { metadata: { name: string; namespace: string } };
  spec: ExternalSecretSpec;
  status: ExternalSecretStatus;
}

type SecretObject = KubeObject & { type?: string; data?: Record<string, string>; immutable?: boolean };

/** A failure that becomes the Ready=False condition; `retry` asks for backoff instead of a slow requeue. */
class SyncFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly retry = false,
    options?: { cause?: unknown; requeueAfterMs?: number },
  ) {
    super(message, options);
    this.requeueAfterMs = options?.requeueAfterMs;
  }
  readonly requeueAfterMs?: number;
}

/** Bounds the per-store round bookkeeping (stores that went away are never removed one by one). */
const MAX_TRACKED_ROUNDS = 10_000;

type ResolvedStore = Extract<Awaited<ReturnType<typeof resolveStore>>, { ok: true }>;

/** A Merge target is a Secret we do not watch (it is not ours yet), so we look for it this often. */
const MERGE_TARGET_POLL_MS = 10_000;

/**
 * Reads of a refresh round in flight at once. Enough to keep a batching provider's calls full (AWS
 * BatchGetSecretValue: 20 keys a call), few enough that a store of 10,000 does not queue them all.
 */
const ROUND_READ_WINDOW = 256;

/** Retries after a transient provider error: 0.5 s doubling to 30 s, so recovery is prompt. */
const TRANSIENT_BACKOFF = { baseMs: 500, maxMs: 30_000, jitter: 0.2 };

export class ExternalSecretReconciler {
  private readonly rendered = new Map<string, Rendered>();
  /** Consecutive transient provider failures per ExternalSecret. */
  private readonly transientFailures = new Map<string, number>();
  /** When each store's current refresh round was started (see refresh-round.ts). */
  private readonly roundStarted = new Map<string, number>();
  /** ExternalSecrets awaiting a first sync (or a changed spec's): when a round first included them. */
  private readonly firstIncluded = new Map<string, number>();
  /** Last reads and store rounds: what an unchanged refresh no longer writes to status. */
  readonly refreshes: RefreshTracker;
  /**
   * Rotations whose write was sent but not answered (a deadline, a reset): the hash we wrote. If
   * the write landed, the next reconcile finds nothing to write and announces the rotation then.
   */
  private readonly unannounced = new Map<string, string>();

  constructor(private readonly deps: ExternalSecretReconcilerDeps) {
    this.refreshes = new RefreshTracker(() => deps.clock.now());
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const es = this.deps.informers.externalSecrets.get(name, namespace);
    if (!es || es.metadata.deletionTimestamp) {
      this.forget(key);
      return {};
    }
    // Read against a cache that has not listed, a Secret someone else owns would look absent.
    if (this.deps.cachesReady && !(await this.deps.cachesReady(namespace))) return { requeueAfterMs: CACHE_RETRY_MS };
    const { ExternalSecretSpec, ExternalSecretStatus } = await loadApiSchemas();
    const ctx: SyncContext = {
      key,
      es: es as SyncContext['es'],
      spec: undefined as unknown as ExternalSecretSpec,
      status: parseOnce(ExternalSecretStatus, es['status'] ?? {}).data ?? {},
    };
    try {
      const parsed = parseOnce(ExternalSecretSpec, es['spec']);
      if (!parsed.success) {
        throw new SyncFailure(Reasons.invalidSpec, `spec is invalid: ${summarizeIssues(parsed.error.issues)}`);
      }
      ctx.spec = parsed.data;
      const patterns = findInvalidPatterns(ctx.spec);
      if (patterns.length > 0) throw new SyncFailure(Reasons.invalidSpec, patterns.join('; '));
      const result = await this.sync(ctx);
      this.transientFailures.delete(key);
      return result;
    } catch (err) {
      return this.handleFailure(ctx, err);
    }
  }

  /** Forgets what we rendered for an ExternalSecret (it was deleted). */
  forget(key: string): void {
    this.rendered.delete(key);
    this.unannounced.delete(key);
    this.firstIncluded.delete(key);
    this.transientFailures.delete(key);
    void this.reportRound(this.refreshes.forget(key));
  }

  private async sync(ctx: SyncContext): Promise<ReconcileResult> {
    const { es, spec } = ctx;
    const store = await resolveStore(this.deps.informers, this.deps.registry, es.metadata.namespace, spec.secretStoreRef);
    if (!store.ok) throw new SyncFailure(store.reason, store.message);

    const now = this.deps.clock.now();
    // delivery Files writes no Secret: the values go to pods through the operator (src/delivery).
    const files = spec.target?.delivery === 'Files';
    const policy = files ? 'None' : spec.target?.creationPolicy ?? 'Owner';
    const targetName = spec.target?.name ?? es.metadata.name;
    const current = files ? undefined : await this.readTarget(targetName, es.metadata.namespace);
    this.checkOwnership(ctx, policy, targetName, current);

    const refresh = describeRefresh({
      es, spec, status: ctx.status, store: store.store, storeRefreshInterval: store.spec.refreshInterval, now, secretExists: current !== undefined,
      lastRead: this.knownRead(ctx.key, spec, ctx.status, es.metadata.generation, this.storeRoundTime(store.store)),
    });
    const { specVersion } = refresh;

    let rendered = this.rendered.get(ctx.key);
    // A shared read young enough for this refresh (see readMaxAge) is reused, unless forced.
    const forced = rendered !== undefined && rendered.forceSync !== forceSyncOf(es);
    const maxAgeMs = forced ? 0 : this.readMaxAge(ctx.key, refresh);
    if (rendered?.specVersion !== specVersion) rendered = this.adoptIntact(ctx, specVersion, current, policy);
    const previousHash = rendered?.hash ?? current?.metadata.annotations?.[Annotations.dataHash] ?? ctx.status.filesHash;
    // An adopted rendering holds no values: a Secret that drifted from it is restored from a provider read.
    if (rendered && rendered.data === undefined && !this.holds(ctx, current, rendered)) rendered = undefined;
    let readAt: number | undefined;
    let changed = false;
    let missing: string[] = [];
    // A periodic refresh that falls due while its store's round is still being worked through, and
    // that already read in that round, waits for the next round: reading it again would only make
    // this one longer (a 10,000-member round outlasting a 30 s interval read 23,000 times).
    const waits = rendered !== undefined && !isFirstSync(refresh) && shouldRefresh(refresh) &&
      this.refreshes.readInRunningRound(ClientCache.storeKey(store.store), ctx.key, now);
    if ((shouldRefresh(refresh) && !waits) || (!rendered && policy !== 'None')) {
      const result = await this.fetchAndRender(ctx, store, refresh, maxAgeMs);
      if (result === 'deleted') return this.finishDeleted(ctx, current, policy);
      ({ rendered, missing } = result);
      // One string for the hash the Secret's annotation already holds (the cache's), not a second
      // copy per ExternalSecret.
      const annotated = current?.metadata.annotations?.[Annotations.dataHash];
      if (annotated !== undefined && rendered.hash === annotated) rendered.hash = annotated;
      this.firstIncluded.delete(ctx.key);
      // The refresh dates from its oldest value (a shared read may predate this reconcile), unless
      // that would make it due again at once: then from now, so a refresh never repeats in a loop.
      const delay = computeRefreshDelay({ ...refresh, lastRefresh: result.readAt });
      readAt = delay === undefined || delay > 0 ? result.readAt : now;
      changed = isFirstSync(refresh) || rendered.hash !== previousHash;
    }

    const wrote = rendered && policy !== 'None' ? await this.writeSecret(ctx, policy, rendered, current) : false;
    const filesHash = files ? rendered?.hash ?? ctx.status.filesHash : undefined;
    if (files && rendered && ctx.status.filesHash !== undefined && ctx.status.filesHash !== rendered.hash) {
      await this.recordFilesRotation(ctx, rendered);
    }
    this.deps.metrics.syncs.inc({ result: wrote ? 'written' : 'unchanged' });
    const keys = rendered ? Object.keys(rendered.data ?? rendered.digests ?? {}).length : 0;
    const gone = missing.length > 0 ? `; remote keys ${quoteList(missing)} no longer exist and were dropped` : '';
    await this.updateStatus(ctx, {
      ready: {
        status: 'True',
        reason: Reasons.secretSynced,
        message: files
          ? `${keys} keys are served as files to the pods that inject them (delivery Files: no Secret is written)${gone}`
          : policy === 'None'
            ? `read ${keys} keys from the provider (creationPolicy None: no Secret is written)`
            : `Secret '${targetName}' is in sync (${keys} keys)${gone}`,
      },
      // Only a first sync or values that changed move it (in ms): an unchanged refresh writes
      // nothing; this process remembers the read, and the store's round status records it.
      refreshTime: readAt !== undefined && changed ? new Date(readAt).toISOString() : ctx.status.refreshTime,
      syncedResourceVersion: specVersion,
      binding: policy === 'None' ? undefined : { name: targetName },
      filesHash,
    });
    if (readAt !== undefined) await this.reportRound(this.refreshes.recordRead(ctx.key, readAt, changed));
    // One that waits is due again on its store's next slot, as if it had read now.
    const delay = computeRefreshDelay({ ...refresh, lastRefresh: readAt ?? (waits ? now : refresh.lastRefresh) });
    return delay === undefined ? {} : { requeueAfterMs: delay };
  }

  /**
   * The target Secret: from the cache when we manage it; absent when the index of every Secret
   * does not know the name (a first sync: no request at all). Only a Secret that exists but is not
   * in our cache (someone else's, a Merge target, or ours before our watch saw it) costs one GET.
   */
  private async readTarget(name: string, namespace: string): Promise<CachedSecret | undefined> {
    const { secrets, secretIndex } = this.deps.informers;
    const cached = secrets.get(name, namespace);
    if (cached) return cached as CachedSecret;
    if (!secretIndex.get(name, namespace)) return undefined;
    const secret = await this.deps.kube.get<SecretObject>(CoreResources.secret, name, namespace);
    return secret && toCachedSecret(this.deps.hashKey, secret);
  }

  /**
   * When the values of an ExternalSecret were last read: this process remembers its own reads.
   * After a restart, a Ready ExternalSecret that follows its store's interval was read no earlier
   * than the store's last complete round (one whose refresh failed says so in its Ready condition).
   */
  private knownRead(
    key: string, spec: ExternalSecretSpec, status: ExternalSecretStatus, generation: number | undefined, storeRound: number | undefined,
  ): number | undefined {
    const remembered = this.refreshes.lastReadOf(key);
    if (remembered !== undefined || storeRound === undefined || spec.refreshInterval !== undefined) return remembered;
    const ready = findReady(status.conditions);
    return ready?.status === 'True' && status.observedGeneration === generation ? storeRound : undefined;
  }

  /** The time of the store's last complete refresh round, as its status records it. */
  private storeRoundTime(store: Pick<StoreIdentity, 'kind' | 'name' | 'namespace'>): number | undefined {
    const { stores, clusterStores } = this.deps.informers;
    const object = store.kind === 'ClusterSecretStore' ? clusterStores.get(store.name) : stores.get(store.name, store.namespace);
    const time = parseOnce(apiSchemas().SecretStoreStatus, object?.['status'] ?? {}).data?.refresh?.time;
    const parsed = time === undefined ? Number.NaN : Date.parse(time);
    return Number.isFinite(parsed) ? parsed : undefined;
  }

  /** A store's round completed: its status says so, in one write per round (best effort). */
  private async reportRound(round: RoundSummary | undefined): Promise<void> {
    if (!round) return;
    this.deps.clients.releaseReads(round.store);
    const [kind, namespace, name] = round.store.split('/') as [string, string, string];
    const resource = kind === 'ClusterSecretStore' ? LockstepResources.clusterSecretStore : LockstepResources.secretStore;
    const refresh = { time: new Date(round.time).toISOString(), externalSecrets: round.externalSecrets, changed: round.changed, failed: round.failed };
    try {
      await this.deps.kube.patch(resource, name, namespace || undefined, { status: { refresh } }, { subresource: 'status' });
    } catch (err) {
      this.deps.log.debug({ store: round.store, err }, 'could not record the refresh round on the store');
    }
  }

  private checkOwnership(ctx: SyncContext, policy: string, targetName: string, current: CachedSecret | undefined): void {
    if (policy === 'None') return;
    const owner = current?.metadata.annotations?.[Annotations.owner];
    if (policy === 'Merge' && !current) {
      throw new SyncFailure(
        Reasons.targetMissing,
        `creationPolicy Merge adds keys to an existing Secret, and Secret '${targetName}' does not exist; create it or use creationPolicy Owner`,
        false,
        { requeueAfterMs: MERGE_TARGET_POLL_MS },
      );
    }
    if (current && owner !== ctx.key && (owner !== undefined || policy !== 'Merge')) {
      const by = owner ? `ExternalSecret '${owner}'` : 'someone else';
      throw new SyncFailure(
        Reasons.targetConflict,
        `Secret '${targetName}' already exists and is managed by ${by}; pick another target.name` +
          (owner ? '' : ', delete the Secret, or use creationPolicy Merge to add keys to it'),
      );
    }
  }

  /**
   * After a restart we have nothing in memory. If the Secret still holds exactly what its hash
   * annotation says we wrote, with this spec's metadata, adopt it as our rendered state (its
   * digests, not its values): no provider call needed until it refreshes or drifts.
   */
  private adoptIntact(ctx: SyncContext, specVersion: string, current: CachedSecret | undefined, policy: string): Rendered | undefined {
    if (!current?.intact || policy === 'None' || ctx.status.syncedResourceVersion !== specVersion) return undefined;
    const hash = current.metadata.annotations?.[Annotations.dataHash] as string;
    const rendered: Rendered = { specVersion, hash, digests: current.digests, forceSync: forceSyncOf(ctx.es) };
    if (!this.holds(ctx, current, rendered)) return undefined;
    this.rendered.set(ctx.key, rendered);
    return rendered;
  }

  /** The Secret holds what we rendered: our hash annotation, our metadata, our values. */
  private holds(ctx: SyncContext, current: CachedSecret | undefined, rendered: Rendered): boolean {
    if (current?.metadata.annotations?.[Annotations.dataHash] !== rendered.hash) return false;
    return holdsRendered(current, { meta: buildDesiredSecret(this.identity(ctx), new Map()), digests: this.digestsOf(rendered) });
  }

  private digestsOf(rendered: Rendered): Record<string, string> {
    if (rendered.digests) return rendered.digests;
    const digests: Record<string, string> = {};
    for (const [k, v] of Object.entries(rendered.data ?? {})) digests[k] = digestValue(this.deps.hashKey, k, v);
    return digests;
  }

  private identity(ctx: SyncContext) {
    return { name: ctx.es.metadata.name, namespace: ctx.es.metadata.namespace, spec: ctx.spec };
  }

  private async fetchAndRender(
    ctx: SyncContext,
    store: ResolvedStore,
    refresh: RefreshState,
    maxAgeMs: number,
  ): Promise<{ rendered: Rendered; missing: string[]; readAt: number } | 'deleted'> {
    const { specVersion } = refresh;
    const deletionPolicy = ctx.spec.target?.deletionPolicy ?? 'Retain';
    const client = await this.deps.clients.get(store.store, store.provider, store.config, store.spec.rateLimit);
    if (maxAgeMs > 0) this.startRound(store, refresh, client);
    const readTimes: number[] = [];
    const { data, missing } = await withDeadline(this.deps.options.providerTimeoutMs, (signal) =>
      fetchSecretData(client, ctx.spec, { signal, maxAgeMs, readTimes }, deletionPolicy !== 'Retain'));
    const readAt = readTimes.length > 0 ? Math.min(...readTimes) : refresh.now;
    for (const value of data.values()) this.deps.scrubber.add(value);
    if (data.size === 0 && missing.length > 0) return 'deleted';
    let renderedData: Map<string, Uint8Array>;
    try {
      renderedData = renderTemplate(ctx.spec.target?.template, data);
    } catch (err) {
      if (err instanceof TemplateError) throw new SyncFailure(Reasons.invalidSpec, err.message);
      throw err;
    }
    // Without a template the rendered values are the fetched ones, added above.
    if (renderedData !== data) for (const value of renderedData.values()) this.deps.scrubber.add(value);
    this.deps.scrubber.readDone(); // values rotated away two reads ago leave its memory
    const invalid = findInvalidKeys(renderedData);
    if (invalid.length > 0) {
      throw new SyncFailure(
        Reasons.invalidSpec,
        `keys ${quoteList(invalid)} are not valid Secret keys; add a dataFrom rewrite to rename them`,
      );
    }
    const desired = buildDesiredSecret(this.identity(ctx), renderedData);
    const rendered: Rendered = { specVersion, data: desired.data, hash: computeDataHash(this.deps.hashKey, desired), forceSync: forceSyncOf(ctx.es) };
    this.rendered.set(ctx.key, rendered);
    return { rendered, missing, readAt };
  }

  /**
   * The first ExternalSecret of a store's refresh round asks for the reads of every ExternalSecret
   * in the round; their reconciles then find the values in the shared read layer.
   * Best effort: a failed read is not cached, and each ExternalSecret reports its own failure.
   * At most ROUND_READ_WINDOW of the round's reads are in flight at once: a round of 10,000 asked
   * all at once would queue 10,000 requests (and their buffers) in front of a real provider.
   */
  private startRound(store: ResolvedStore, refresh: RefreshState, client: SecretsClient): void {
    const key = ClientCache.storeKey(store.store);
    const started = this.roundStarted.get(key);
    if (started !== undefined && refresh.now - started < refresh.intervalMs * STORE_SPREAD_FRACTION) return;
    // A round still worked through (a backlog: 10,000 syncs after a store edit) asked for its members'
    // reads when it opened. Looking through every user of the store again each spread window until
    // it completed found nothing new, and was a quarter of what the store-edit round allocated at
    // 10,000 (0.5 of 2.15 GB, sampled). One that falls due meanwhile reads alone; the next round
    // opens after this one.
    if (this.refreshes.isRunning(key, refresh.now)) return;
    if (this.roundStarted.size >= MAX_TRACKED_ROUNDS) this.roundStarted.clear();
    this.roundStarted.set(key, refresh.now);
    const { externalSecrets, namespaces } = this.deps.informers;
    const storeRound = this.storeRoundTime(store.store);
    const round = collectRoundReads({
      candidates: externalSecrets.list(store.store.namespace),
      store: store.store,
      storeSpec: store.spec,
      namespaceLabels: (ns) => namespaces.get(ns)?.metadata.labels,
      now: refresh.now,
      lastReadOf: (member, spec, status, generation) => this.knownRead(member, spec, status, generation, storeRound),
      waits: (member) => this.refreshes.readInRunningRound(key, member.key, member.state.now),
      maxAgeOf: (member) => {
        // A member whose read an earlier round asked for, and whose reconcile is still queued, keeps
        // that read: it is not asked again because the interval elapsed meanwhile.
        const current = isIncludedReadCurrent(member.state, this.firstIncluded.get(member.key));
        if (isFirstSync(member.state) && !current) this.firstIncluded.set(member.key, member.state.now);
        return this.readMaxAge(member.key, member.state);
      },
    });
    this.refreshes.openRound(key, round.members.map((m) => m.key), refresh.now, refresh.intervalMs);
    const { values, maps, finds } = round;
    feedBounded(values.length + maps.length + finds.length, ROUND_READ_WINDOW, (i) =>
      withDeadline<unknown>(this.deps.options.providerTimeoutMs, (signal) => {
        if (i < values.length) return client.getSecret(values[i]!.ref, { signal, maxAgeMs: values[i]!.maxAgeMs });
        const m = i - values.length;
        if (m < maps.length) return client.getSecretMap(maps[m]!.ref, { signal, maxAgeMs: maps[m]!.maxAgeMs });
        const f = finds[m - maps.length]!;
        return client.findSecrets(f.ref, { signal, maxAgeMs: f.maxAgeMs });
      }));
    this.deps.log.debug({ store: key, members: round.members.length, reads: round.values.length + round.maps.length + round.finds.length }, 'refresh round started');
  }

  /**
   * How old a shared read may serve this reconcile. A periodic refresh takes anything read since
   * shortly before it came due. A first sync (or a changed spec's) takes anything read since
   * shortly before the round that first included it, while it waits in the queue (however long the
   * round takes, up to QUEUED_READ_MAX_MS); that ends with its sync or a failure (the retry reads afresh).
   */
  private readMaxAge(key: string, state: RefreshState): number {
    return computeQueuedReadMaxAge(state, this.firstIncluded.get(key));
  }

  /** Writes the Secret by server-side apply when its content differs from what we render. */
  private async writeSecret(ctx: SyncContext, policy: string, rendered: Rendered, current: CachedSecret | undefined): Promise<boolean> {
    const { hash } = rendered;
    const recorded = current?.metadata.annotations?.[Annotations.dataHash];
    if (current && this.holds(ctx, current, rendered)) {
      if (this.unannounced.get(ctx.key) === hash) await this.announceRotation(ctx, current.metadata.name ?? '');
      return false;
    }
    // Only an adopted rendering lacks values, and one that no longer matches was re-read (sync).
    if (rendered.data === undefined) throw new Error('internal: no rendered values to write');
    const desired = { ...buildDesiredSecret(this.identity(ctx), new Map()), data: rendered.data };
    if (current?.immutable) {
      throw new SyncFailure(
        Reasons.secretImmutable,
        `Secret '${desired.name}' is immutable and its content must change; delete it so Lockstep can recreate it`,
      );
    }
    // A rotation is a change of what we rendered: not a first sync, not a restore of drift.
    const rotated = current !== undefined && recorded !== undefined && recorded !== hash;
    if (rotated) {
      await this.recordRotation(ctx, desired.name, changedKeys(current, this.digestsOf(rendered)), hash);
      this.unannounced.set(ctx.key, hash);
    }
    await this.applySecret(ctx, policy, desired, hash);
    if (rotated) await this.announceRotation(ctx, desired.name);
    return true;
  }

  /** The SecretRotated Event and counter of a rotation that was written. */
  private async announceRotation(ctx: SyncContext, secretName: string): Promise<void> {
    this.unannounced.delete(ctx.key);
    this.deps.rolloutMetrics?.rotations.inc();
    await this.deps.events.record(ctx.es, 'Normal', EventReasons.rotated, `Secret '${secretName}' content changed`);
  }

  /**
   * Before the new content is written, owe the restarts it calls for in status, so they survive
   * an operator restart between the write and the restarts.
   */
  private async recordRotation(ctx: SyncContext, secretName: string, changed: string[], hash: string): Promise<void> {
    const planned = this.deps.planRollout?.({
      namespace: ctx.es.metadata.namespace,
      secretName,
      changedKeys: changed,
      targets: ctx.spec.rollout?.targets ?? [],
    }) ?? [];
    const now = new Date(this.deps.clock.now()).toISOString(); // milliseconds: the rollout window is measured from it
    const pendingRollout = buildPendingRollout(ctx.status.pendingRollout, planned, hash.slice(0, 16), now);
    await this.deps.kube.patch(LockstepResources.externalSecret, ctx.es.metadata.name, ctx.es.metadata.namespace, {
      status: { lastRotationTime: now, pendingRollout },
    }, { subresource: 'status' });
  }

  /**
   * delivery Files: the content changed. Sidecar agents pick it up from the operator by
   * themselves; pods whose agent only ran at start (init mode) are owed a restart, recorded like a
   * Secret rotation's.
   */
  private async recordFilesRotation(ctx: SyncContext, rendered: Rendered): Promise<void> {
    const planned = this.deps.planRollout?.({
      namespace: ctx.es.metadata.namespace,
      secretName: ctx.es.metadata.name,
      changedKeys: Object.keys(rendered.data ?? rendered.digests ?? {}),
      targets: ctx.spec.rollout?.targets ?? [],
      delivery: 'Files',
    }) ?? [];
    const now = new Date(this.deps.clock.now()).toISOString();
    const pendingRollout = buildPendingRollout(ctx.status.pendingRollout, planned, rendered.hash.slice(0, 16), now);
    await this.deps.kube.patch(LockstepResources.externalSecret, ctx.es.metadata.name, ctx.es.metadata.namespace, {
      status: { lastRotationTime: now, pendingRollout },
    }, { subresource: 'status' });
    this.deps.rolloutMetrics?.rotations.inc();
    await this.deps.events.record(ctx.es, 'Normal', EventReasons.rotated, `the content of the files delivered to pods changed (${Object.keys(rendered.data ?? rendered.digests ?? {}).length} keys)`);
  }

  private async applySecret(ctx: SyncContext, policy: string, desired: DesiredSecret, hash: string): Promise<void> {
    const merge = policy === 'Merge';
    const body: SecretObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: desired.name,
        namespace: desired.namespace,
        labels: desired.labels,
        annotations: { ...desired.annotations, [Annotations.dataHash]: hash },
        ...(policy === 'Owner' ? { ownerReferences: [this.ownerReference(ctx)] } : {}),
      },
      data: desired.data,
      ...(merge ? {} : { type: desired.type }),
      ...(desired.immutable && !merge ? { immutable: true } : {}),
    };
    try {
      await this.deps.kube.apply(CoreResources.secret, body, { force: true });
    } catch (err) {
      if (err instanceof InvalidError || err instanceof ForbiddenError) {
        throw new SyncFailure(Reasons.secretSyncError, `writing Secret '${desired.name}' was refused: ${err.message}`);
      }
      throw err;
    }
  }

  private ownerReference(ctx: SyncContext) {
    return {
      apiVersion: API_VERSION,
      kind: 'ExternalSecret',
      name: ctx.es.metadata.name,
      uid: ctx.es.metadata.uid ?? '',
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  /** Every remote key is gone and the deletion policy is Delete or Merge. */
  private async finishDeleted(ctx: SyncContext, current: CachedSecret | undefined, policy: string): Promise<ReconcileResult> {
    this.rendered.delete(ctx.key);
    const deletionPolicy = ctx.spec.target?.deletionPolicy;
    const name = ctx.spec.target?.name ?? ctx.es.metadata.name;
    if (current && deletionPolicy === 'Delete' && policy !== 'None') {
      await this.deps.kube.delete(CoreResources.secret, name, ctx.es.metadata.namespace, { uid: current.metadata.uid });
    } else if (current && deletionPolicy === 'Merge') {
      const desired = buildDesiredSecret(this.identity(ctx), new Map());
      await this.applySecret(ctx, policy, desired, computeDataHash(this.deps.hashKey, desired));
    }
    this.deps.metrics.syncs.inc({ result: 'deleted' });
    const what = deletionPolicy === 'Delete' ? `Secret '${name}' was deleted` : `our keys were removed from Secret '${name}'`;
    await this.updateStatus(ctx, {
      ready: { status: 'False', reason: Reasons.secretDeleted, message: `every remote key is gone, so ${what} (deletionPolicy ${deletionPolicy})` },
      refreshTime: new Date(this.deps.clock.now()).toISOString(),
      syncedResourceVersion: ctx.status.syncedResourceVersion,
      binding: undefined,
      filesHash: ctx.status.filesHash,
    });
    await this.reportRound(this.refreshes.recordRead(ctx.key, this.deps.clock.now(), true));
    return { requeueAfterMs: this.deps.options.errorRequeueMs };
  }

  private async handleFailure(ctx: SyncContext, err: unknown): Promise<ReconcileResult> {
    const failure = toSyncFailure(err);
    this.firstIncluded.delete(ctx.key); // a retry reads afresh
    this.deps.metrics.syncs.inc({ result: 'error' });
    void this.reportRound(this.refreshes.recordFailure(ctx.key));
    // The Secret is never touched on a failure: the last good value stays in place.
    await this.updateStatus(ctx, {
      refreshTime: ctx.status.refreshTime,
      syncedResourceVersion: ctx.status.syncedResourceVersion,
      binding: ctx.status.binding,
      filesHash: ctx.status.filesHash,
      ready: { status: 'False', reason: failure.reason, message: failure.message },
    });
    if (failure.retry && isProviderError(failure.cause)) {
      const attempt = (this.transientFailures.get(ctx.key) ?? 0) + 1;
      this.transientFailures.set(ctx.key, attempt);
      return { requeueAfterMs: computeBackoff(attempt - 1, TRANSIENT_BACKOFF) };
    }
    if (failure.retry) throw failure;
    return { requeueAfterMs: failure.requeueAfterMs ?? this.deps.options.errorRequeueMs };
  }

  private async updateStatus(
    ctx: SyncContext,
    next: Omit<ExternalSecretStatus, 'conditions'> & { ready: ReadyState },
  ): Promise<void> {
    const { ready: raw, ...rest } = next;
    // Status is read by anyone who may read the ExternalSecret: its message passes the log scrubber.
    const ready = { ...raw, message: this.deps.scrubber.scrub(raw.message) };
    const es = ctx.es;
    const status: ExternalSecretStatus = {
      ...stripUndefined(rest),
      observedGeneration: es.metadata.generation,
      conditions: buildConditions(ctx.status.conditions, ready, es.metadata.generation, new Date(this.deps.clock.now())),
    };
    const transition = isTransition(ctx.status.conditions, ready);
    if (!transition && sameStatus(ctx.status, status)) return;
    // Only the fields this reconciler owns: the rollout controller writes pendingRollout/lastRollout.
    const own = {
      observedGeneration: status.observedGeneration ?? null,
      conditions: status.conditions,
      refreshTime: status.refreshTime ?? null,
      syncedResourceVersion: status.syncedResourceVersion ?? null,
      binding: status.binding ?? null,
      filesHash: status.filesHash ?? null,
    };
    await this.deps.kube.patch(LockstepResources.externalSecret, es.metadata.name, es.metadata.namespace, { status: own }, { subresource: 'status' });
    const previous = ctx.status.conditions;
    ctx.status = { ...ctx.status, ...status };
    if (transition) await this.recordTransition(ctx, ready, previous);
  }

  private async recordTransition(ctx: SyncContext, ready: ReadyState, previous: ExternalSecretStatus['conditions']): Promise<void> {
    if (ready.status === 'True') {
      // The first successful sync is not news; recovering from an error is.
      if (previous && previous.length > 0) await this.deps.events.record(ctx.es, 'Normal', EventReasons.synced, ready.message);
      return;
    }
    await this.deps.events.record(ctx.es, 'Warning', ready.reason, ready.message);
  }
}

function toSyncFailure(err: unknown): SyncFailure {
  if (err instanceof SyncFailure) return err;
  if (err instanceof SecretNotFoundError) {
    return new SyncFailure(Reasons.remoteNotFound, `${err.message}; the Secret is kept as it was (deletionPolicy Retain)`);
  }
  if (isProviderError(err)) {
    const retry = err.errorClass === 'Transient';
    const reason = err.errorClass === 'Permanent' && err.name === 'InvalidRefError' ? Reasons.invalidSpec : Reasons.providerError;
    return new SyncFailure(reason, err.message, retry, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SyncFailure(Reasons.secretSyncError, message, true, { cause: err });
}

function summarizeIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || 'spec'}: ${i.message}`).join('; ');
}

function quoteList(items: string[]): string {
  return items.map((i) => `'${i}'`).join(', ');
}

function stripUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Whether two statuses agree on the fields this reconciler writes. Field by field, whatever the
 * order of their keys: the status read from the cache is the API server's JSON (keys sorted), the
 * one we build is in our order.
 */
export function sameStatus(a: ExternalSecretStatus, b: ExternalSecretStatus): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(s: ExternalSecretStatus) {
  const conditions = (s.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime, c.observedGeneration ?? null]);
  return [s.observedGeneration ?? null, conditions, s.refreshTime ?? null, s.syncedResourceVersion ?? null, s.binding?.name ?? null, s.filesHash ?? null];
}
