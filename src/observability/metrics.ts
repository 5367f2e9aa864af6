import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Lockstep's domain metrics. Labels carry names of stores and results, never values. */
export interface SyncMetrics {
  syncs: Counter<'result'>;
  providerRequests: Counter<'store' | 'operation' | 'outcome'>;
  providerLatency: Histogram<'store' | 'operation'>;
  kubeRequests: Counter<'verb' | 'resource' | 'code'>;
}

export function buildSyncMetrics(registry: Registry): SyncMetrics {
  return {
    syncs: new Counter({
      name: 'lockstep_sync_total',
      help: 'ExternalSecret syncs by result (written, unchanged, error, ...)',
      labelNames: ['result'],
      registers: [registry],
    }),
    providerRequests: new Counter({
      name: 'lockstep_provider_requests_total',
      help: 'Provider API calls by store, operation and outcome (ok or the error class)',
      labelNames: ['store', 'operation', 'outcome'],
      registers: [registry],
    }),
    providerLatency: new Histogram({
      name: 'lockstep_provider_request_duration_seconds',
      help: 'Provider API call latency',
      labelNames: ['store', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    kubeRequests: new Counter({
      name: 'lockstep_kube_requests_total',
      help: 'Kubernetes API requests made by the operator, by verb, resource and HTTP status code',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    }),
  };
}

/** Rotation and restart metrics. */
export interface RolloutMetrics {
  rotations: Counter;
  restarts: Counter<'kind' | 'outcome'>;
  deferred: Counter<'reason'>;
  propagation: Histogram;
}

export function buildRolloutMetrics(registry: Registry): RolloutMetrics {
  return {
    rotations: new Counter({
      name: 'lockstep_rotations_total',
      help: 'Secret content changes written (not first syncs, not unchanged refreshes)',
      registers: [registry],
    }),
    restarts: new Counter({
      name: 'lockstep_restarts_total',
      help: 'Workload restarts by workload kind and outcome (restarted, failed)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    deferred: new Counter({
      name: 'lockstep_restarts_deferred_total',
      help: 'Restarts deferred by a safety valve (Paused, MinInterval, MaxInFlight)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    propagation: new Histogram({
      name: 'lockstep_rotation_propagation_seconds',
      help: 'Time from a provider change being seen to the consuming workload being patched',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers: [registry],
    }),
  };
}

interface Condition { type?: unknown; status?: unknown; reason?: unknown }

/** The Ready condition of an object as the apiserver gave it (status is not parsed elsewhere). */
function readyCondition(obj: object): Condition | undefined {
  const conditions = ((obj as { status?: { conditions?: unknown } }).status)?.conditions;
  return Array.isArray(conditions) ? (conditions as Condition[]).find((c) => c?.type === 'Ready') : undefined;
}

/**
 * `lockstep_externalsecrets_not_ready{reason}`: ExternalSecrets whose Ready condition is False,
 * counted from the informer cache when Prometheus scrapes. Their Secrets keep the last good
 * values, so this is the number of stale Secrets. Reasons are API constants, never values.
 */
export function buildExternalSecretStatusMetrics(registry: Registry, list: () => readonly object[]): Gauge<'reason'> {
  return new Gauge({
    name: 'lockstep_externalsecrets_not_ready',
    help: 'ExternalSecrets whose Ready condition is False, by reason (their Secrets keep the last good values)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const es of list()) {
        const ready = readyCondition(es);
        if (ready?.status === 'False') this.inc({ reason: typeof ready.reason === 'string' ? ready.reason : 'Unknown' });
      }
    },
  });
}

/** A store's last complete refresh round (epoch ms), as `RefreshTracker` or the store's status knows it. */
export interface StoreRound {
  store: string;
  time: number;
}

/**
 * `lockstep_store_refresh_age_seconds{store}`: seconds since the store's last complete refresh
 * round, when every Ready ExternalSecret using it had its values read. An unchanged refresh writes
 * nothing to the ExternalSecrets, so this is how staleness shows: alert when it exceeds about twice
 * the store's refreshInterval. Computed when Prometheus scrapes.
 */
export function buildRefreshMetrics(registry: Registry, rounds: () => readonly StoreRound[], now: () => number = Date.now): Gauge<'store'> {
  return new Gauge({
    name: 'lockstep_store_refresh_age_seconds',
    help: "Seconds since the store's last complete refresh round (every Ready ExternalSecret using it was read since)",
    labelNames: ['store'],
    registers: [registry],
    collect() {
      this.reset();
      const at = now();
      for (const r of rounds()) this.set({ store: r.store }, Math.max(0, (at - r.time) / 1000));
    },
  });
}

/** Where the Secret index and workload caches are kept (kube/namespace-scope.ts); absent: in the watched namespaces, as given. */
export interface CacheScope {
  clusterWide: boolean;
  /** Namespaces holding ExternalSecrets. */
  namespaces: number;
}

/** Namespaces holding ExternalSecrets, under the scope their caches use now (the other scope reads 0). */
export function buildCacheScopeMetrics(registry: Registry, scope: () => CacheScope | undefined): Gauge<'scope'> {
  return new Gauge({
    name: 'lockstep_cache_namespaces',
    help: 'Namespaces holding ExternalSecrets, by how their Secrets and workloads are cached: per-namespace (a watch each) or cluster-wide',
    labelNames: ['scope'],
    registers: [registry],
    collect() {
      this.reset();
      const now = scope();
      if (!now) return;
      this.set({ scope: 'per-namespace' }, now.clusterWide ? 0 : now.namespaces);
      this.set({ scope: 'cluster-wide' }, now.clusterWide ? now.namespaces : 0);
    },
  });
}

/** How many value forms the log scrubber remembers: it falls when ExternalSecrets are deleted (bounded memory). */
export function buildScrubberMetrics(registry: Registry, size: () => number): Gauge {
  return new Gauge({
    name: 'lockstep_scrubber_values',
    help: 'Secret value forms (raw, base64, JSON-escaped, lines) the log and status scrubber remembers',
    registers: [registry],
    collect() {
      this.set(size());
    },
  });
}
