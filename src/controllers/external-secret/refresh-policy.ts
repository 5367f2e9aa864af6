/**
 * When an ExternalSecret must be re-read from its provider. Pure: the reconciler returns the delay
 * as `requeueAfter`, so refresh scheduling never depends on a timer per object or on watch health.
 */
import { hash } from 'node:crypto';

export type RefreshPolicy = 'Periodic' | 'OnChange' | 'CreatedOnce';

export const DEFAULT_REFRESH_MS = 60 * 60 * 1000;
/** The shortest refresh: a "1ms" interval would re-read the provider and rewrite status in a loop. */
export const MIN_REFRESH_MS = 1000;
/** The longest: a duration of 400 digits parses to Infinity, and Infinity makes every delay NaN (due at once). */
export const MAX_REFRESH_MS = 365 * 24 * 60 * 60 * 1000;

/** A parsed refreshInterval kept within [MIN_REFRESH_MS, MAX_REFRESH_MS]; 0 (never refresh) stays 0. */
export function computeRefreshInterval(ms: number): number {
  if (ms === 0) return 0;
  if (!(ms <= MAX_REFRESH_MS)) return MAX_REFRESH_MS; // also NaN and Infinity
  return Math.max(ms, MIN_REFRESH_MS);
}
/**
 * A provider read this recent (as a fraction of the interval) is fresh enough for a periodic
 * refresh; the shared read layer reuses it.
 */
export const JITTER_FRACTION = 0.1;
/** The ExternalSecrets of one store refresh within this fraction of the interval of each other. */
export const STORE_SPREAD_FRACTION = 0.05;

export interface RefreshState {
  policy: RefreshPolicy;
  intervalMs: number;
  now: number;
  /** When the provider was last read successfully (status.refreshTime). */
  lastRefresh?: number;
  /** Identifies what was asked for (spec generation, store version, force-sync value); opaque. */
  specVersion: string;
  /** The specVersion of the last successful sync (status.syncedResourceVersion). */
  syncedSpecVersion?: string;
  secretExists: boolean;
  /** Stable per object (its uid): the jitter is deterministic, so a restart does not reshuffle it. */
  jitterSeed: string;
  /** Stable per store: the store's phase on the refresh grid. */
  phaseSeed?: string;
}

/** A number in [0, 1) derived from the seed. */
export function computeJitterFraction(seed: string): number {
  // One-shot: no Hash object (and its native context) per call; dueAt asks this on every reconcile.
  return hash('sha256', seed, 'buffer').readUInt32BE(0) / 2 ** 32;
}

/**
 * Refreshes fall on a fixed grid, `phase + k × interval`, anchored in absolute time so nothing
 * drifts. Each store has its own phase, so stores refresh at different moments (no thundering
 * herd); each ExternalSecret adds a small spread of its own, so the ExternalSecrets of one store
 * refresh close together, where the shared read layer serves a remote key once for all of them.
 * The slot is chosen on the store's grid before the spread is added: ExternalSecrets that last
 * refreshed together (from one shared read) always land in the same slot. The next refresh is at
 * least half an interval after the last one, and at most one and a half intervals plus the spread.
 */
function dueAt(state: RefreshState): number | undefined {
  if (state.policy !== 'Periodic' || state.intervalMs <= 0 || state.lastRefresh === undefined) return undefined;
  const interval = state.intervalMs;
  const phase = interval * computeJitterFraction(state.phaseSeed ?? state.jitterSeed);
  const spread = interval * STORE_SPREAD_FRACTION * computeJitterFraction(state.jitterSeed);
  const earliest = state.lastRefresh + interval / 2;
  return phase + Math.ceil((earliest - phase) / interval) * interval + spread;
}

export function shouldRefresh(state: RefreshState): boolean {
  if (isFirstSync(state)) return true;
  if (state.policy === 'CreatedOnce') return !state.secretExists;
  const due = dueAt(state);
  return due !== undefined && state.now >= due;
}

/** The freshness every read promises: a tenth of the refresh interval. */
export function computeReadWindow(state: Pick<RefreshState, 'intervalMs'>): number {
  return Math.floor(state.intervalMs * JITTER_FRACTION);
}

/** Whether the object needs its first sync, or a sync of a changed spec (not a periodic refresh). */
export function isFirstSync(state: Pick<RefreshState, 'lastRefresh' | 'specVersion' | 'syncedSpecVersion'>): boolean {
  return state.lastRefresh === undefined || state.syncedSpecVersion !== state.specVersion;
}

/**
 * How old a shared provider read may be and still serve this refresh: anything read since shortly
 * before the refresh came due. Measured from the due time, not from now, so a burst of refreshes
 * that takes workers a while to get through still shares one read per remote key.
 */
export function computeReadMaxAge(state: RefreshState): number {
  const window = computeReadWindow(state);
  const due = dueAt(state);
  if (due === undefined || state.now < due) return window;
  return Math.floor(state.now - due) + window;
}

/**
 * How long a first sync's read (or a changed spec's), asked for by the refresh round that included
 * it, keeps serving it while its reconcile waits in the queue. A round of 10,000 first syncs (a
 * store edit) takes longer than a short interval to work through; reading again the members still
 * queued when the interval elapsed would make the round longer still (23,000 reads for 10,000 at a
 * 30 s interval). Past this the read is stale whatever the queue: the member reads afresh. The
 * shared read layer keeps a read no longer than this anyway (shared-reads.ts).
 */
export const QUEUED_READ_MAX_MS = 15 * 60_000;

/**
 * Whether a round that included this first sync at `includedAt` still stands for it: its read was
 * asked then and the member has not synced (or failed) since.
 */
export function isIncludedReadCurrent(state: Pick<RefreshState, 'now' | 'intervalMs'>, includedAt: number | undefined): includedAt is number {
  return includedAt !== undefined && state.now - includedAt <= Math.max(state.intervalMs / 2, QUEUED_READ_MAX_MS);
}

/**
 * How old a shared read may serve a reconcile: computeReadMaxAge, and for a first sync (or a changed
 * spec's) anything read since shortly before the round that first included it (`includedAt`), so a
 * burst of new objects that keeps the workers busy for longer than the interval still costs one
 * read per remote key (see QUEUED_READ_MAX_MS).
 */
export function computeQueuedReadMaxAge(state: RefreshState, includedAt: number | undefined): number {
  const base = computeReadMaxAge(state);
  if (!isFirstSync(state) || !isIncludedReadCurrent(state, includedAt)) return base;
  return Math.max(base, state.now - includedAt + computeReadWindow(state));
}

/** Milliseconds until the next scheduled refresh, or undefined when none is scheduled. */
export function computeRefreshDelay(state: RefreshState): number | undefined {
  const due = dueAt(state);
  return due === undefined ? undefined : Math.max(0, Math.ceil(due - state.now));
}
