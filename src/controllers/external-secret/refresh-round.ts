/**
 * A store's refresh round. The refresh grid brings the ExternalSecrets of one store due within a
 * small window of each other (refresh-policy.ts); when the first of them comes due, the reads of
 * all of them are asked for at once, in one tick, through the store's shared read layer. A provider
 * that batches (AWS BatchGetSecretValue) then sends full batches instead of whatever a few workers
 * happen to ask for together, and the reconciles that follow find their values already read.
 * Pure: the reconciler lists the candidates and issues the reads.
 */
import { hash } from 'node:crypto';
import { Annotations } from '../../api/constants.js';
import { parseDuration } from '../../api/common.js';
import type { ExternalSecretSpec, ExternalSecretStatus } from '../../api/external-secret.js';
import { apiSchemas } from '../../api/schema-loader.js';
import type { ClusterSecretStoreSpec } from '../../api/secret-store.js';
import type { KubeObject } from '../../kube/kube-port.js';
import type { StoreIdentity } from '../../providers/client-cache.js';
import type { FindQuery, RemoteRef } from '../../providers/provider.js';
import { isNamespaceAllowed } from '../secret-store/store-access-policy.js';
import {
  computeRefreshDelay, computeRefreshInterval, DEFAULT_REFRESH_MS, isFirstSync, type RefreshState, shouldRefresh, STORE_SPREAD_FRACTION,
} from './refresh-policy.js';
import { parseOnce } from '../../api/parse-once.js';
import { StringPool } from '../../kube/string-pool.js';

export function forceSyncOf(es: KubeObject): string | undefined {
  return es.metadata.annotations?.[Annotations.forceSync];
}

const specVersions = new StringPool(1024);

/** Identifies what a sync answers: the spec generation, the store's version and the force-sync request. */
export function computeSpecVersion(es: KubeObject, store: Pick<StoreIdentity, 'uid' | 'generation'>): string {
  // One-shot (no Hash object per reconcile); a flat 16-character string: a slice of the
  // 64-character hex would keep that alive. Pooled: the ExternalSecrets of one store and
  // generation share it, and each rendering holds one.
  return specVersions.intern(
    hash('sha256', `${es.metadata.generation ?? 0}|${store.uid}|${store.generation}|${forceSyncOf(es) ?? ''}`, 'buffer').toString('hex', 0, 8),
  );
}

/** The refresh state of an ExternalSecret using `store`, as its status and spec describe it. */
export function describeRefresh(input: {
  es: KubeObject;
  spec: ExternalSecretSpec;
  status: ExternalSecretStatus;
  store: StoreIdentity;
  storeRefreshInterval?: string;
  now: number;
  secretExists: boolean;
  /**
   * When the values were last read, as far as the operator knows (memory, or its store's last
   * complete round): status.refreshTime moves only when they changed, so this is often later.
   */
  lastRead?: number;
}): RefreshState {
  const { es, spec, status, store } = input;
  const interval = spec.refreshInterval ?? input.storeRefreshInterval;
  const recorded = status.refreshTime ? Date.parse(status.refreshTime) : undefined;
  return {
    policy: spec.refreshPolicy ?? 'Periodic',
    intervalMs: interval !== undefined ? computeRefreshInterval(parseDuration(interval)) : DEFAULT_REFRESH_MS,
    now: input.now,
    lastRefresh: recorded === undefined || input.lastRead === undefined ? recorded : Math.max(recorded, input.lastRead),
    specVersion: computeSpecVersion(es, store),
    syncedSpecVersion: status.syncedResourceVersion,
    secretExists: input.secretExists,
    jitterSeed: es.metadata.uid ?? `${es.metadata.namespace ?? ''}/${es.metadata.name ?? ''}`,
    phaseSeed: `${store.kind}/${store.namespace ?? ''}/${store.name}`,
  };
}

/** Whether an ExternalSecret is due now, or will be within its store's spread window. */
export function isInRound(state: RefreshState): boolean {
  if (shouldRefresh(state)) return true;
  const delay = computeRefreshDelay(state);
  return delay !== undefined && delay <= state.intervalMs * STORE_SPREAD_FRACTION;
}

/** One distinct read of the round, with the oldest result any member that asks for it accepts. */
export interface RoundRead<T> {
  ref: T;
  maxAgeMs: number;
}

export interface RoundMember {
  /** `namespace/name` */
  key: string;
  state: RefreshState;
}

export interface RoundReads {
  /** Distinct `data[].remoteRef`s. */
  values: RoundRead<RemoteRef>[];
  /** Distinct `dataFrom[].extract` refs. */
  maps: RoundRead<RemoteRef>[];
  /** Distinct `dataFrom[].find` queries. */
  finds: RoundRead<FindQuery>[];
  members: RoundMember[];
}

/**
 * The reads of every ExternalSecret among `candidates` that uses `store`, may use it (a
 * ClusterSecretStore's namespace conditions), and is in the round at `now`. ExternalSecrets
 * whose spec does not parse, or that force a sync (they read afresh anyway), are left out.
 */
export function collectRoundReads(input: {
  candidates: readonly KubeObject[];
  store: StoreIdentity;
  storeSpec: ClusterSecretStoreSpec;
  namespaceLabels: (namespace: string) => Record<string, string> | undefined;
  now: number;
  /** How old a shared read a member accepts (see the reconciler's first-sync rule). */
  maxAgeOf: (member: RoundMember) => number;
  /**
   * A periodic refresh that waits for the store's running round (RefreshTracker.readInRunningRound)
   * is no member of it: no read is asked for it.
   */
  waits?: (member: RoundMember) => boolean;
  /** When a candidate's values were last read, beyond its status (see describeRefresh). */
  lastReadOf?: (key: string, spec: ExternalSecretSpec, status: ExternalSecretStatus, generation: number | undefined) => number | undefined;
}): RoundReads {
  const { store, storeSpec } = input;
  const values = new Map<string, RoundRead<RemoteRef>>();
  const maps = new Map<string, RoundRead<RemoteRef>>();
  const finds = new Map<string, RoundRead<FindQuery>>();
  const add = <T>(into: Map<string, RoundRead<T>>, id: string, ref: T, maxAgeMs: number) => {
    const seen = into.get(id);
    if (!seen) into.set(id, { ref, maxAgeMs });
    else seen.maxAgeMs = Math.max(seen.maxAgeMs, maxAgeMs);
  };
  const refId = (ref: RemoteRef) => JSON.stringify([ref.key, ref.property, ref.version, ref.metadataPolicy === 'Fetch']);
  const allowed = new Map<string, boolean>();
  const members: RoundMember[] = [];
  const { ExternalSecretSpec, ExternalSecretStatus } = apiSchemas(); // the reconcile that calls this loaded them
  for (const es of input.candidates) {
    const namespace = es.metadata.namespace ?? '';
    if (es.metadata.deletionTimestamp || forceSyncOf(es) !== undefined) continue;
    const spec = parseOnce(ExternalSecretSpec, es['spec']).data;
    if (!spec || !usesStore(spec, namespace, store)) continue;
    if (store.kind === 'ClusterSecretStore') {
      let ok = allowed.get(namespace);
      if (ok === undefined) allowed.set(namespace, (ok = isNamespaceAllowed(storeSpec.conditions, namespace, input.namespaceLabels(namespace))));
      if (!ok) continue;
    }
    const status = parseOnce(ExternalSecretStatus, es['status'] ?? {}).data ?? {};
    const key = `${namespace}/${es.metadata.name ?? ''}`;
    const state = describeRefresh({
      es, spec, status, store, storeRefreshInterval: storeSpec.refreshInterval, now: input.now, secretExists: true,
      lastRead: input.lastReadOf?.(key, spec, status, es.metadata.generation),
    });
    if (!isInRound(state)) continue;
    const member = { key, state };
    if (!isFirstSync(state) && input.waits?.(member)) continue;
    members.push(member);
    const maxAgeMs = input.maxAgeOf(member);
    for (const item of spec.data ?? []) add(values, refId(item.remoteRef), item.remoteRef, maxAgeMs);
    for (const item of spec.dataFrom ?? []) {
      if (item.extract) add(maps, refId(item.extract), item.extract, maxAgeMs);
      if (item.find) add(finds, JSON.stringify(item.find), item.find, maxAgeMs);
    }
  }
  return { values: [...values.values()], maps: [...maps.values()], finds: [...finds.values()], members };
}

function usesStore(spec: ExternalSecretSpec, namespace: string, store: StoreIdentity): boolean {
  const ref = spec.secretStoreRef;
  if ((ref.kind ?? 'SecretStore') !== store.kind || ref.name !== store.name) return false;
  return store.kind === 'ClusterSecretStore' || namespace === store.namespace;
}
