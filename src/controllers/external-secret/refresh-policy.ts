/**
 * When an ExternalSecret must be re-read from its provider. Pure: the reconciler returns the delay
 * as `requeueAfter`, so refresh scheduling never depends on a timer per object or on watch health.
 */
import { createHash } from 'node:crypto';

export type RefreshPolicy = 'Periodic' | 'OnChange' | 'CreatedOnce';

export const DEFAULT_REFRESH_MS = 60 * 60 * 1000;
/** Refreshes are spread over this fraction of the interval, so objects created together do not refresh together. */
export const JITTER_FRACTION = 0.1;

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
}

/** A number in [0, 1) derived from the seed. */
export function computeJitterFraction(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

function dueAt(state: RefreshState): number | undefined {
  if (state.policy !== 'Periodic' || state.intervalMs <= 0 || state.lastRefresh === undefined) return undefined;
  return state.lastRefresh + state.intervalMs * (1 + JITTER_FRACTION * computeJitterFraction(state.jitterSeed));
}

export function shouldRefresh(state: RefreshState): boolean {
  if (state.lastRefresh === undefined || state.syncedSpecVersion !== state.specVersion) return true;
  if (state.policy === 'CreatedOnce') return !state.secretExists;
  const due = dueAt(state);
  return due !== undefined && state.now >= due;
}

/** Milliseconds until the next scheduled refresh, or undefined when none is scheduled. */
export function computeRefreshDelay(state: RefreshState): number | undefined {
  const due = dueAt(state);
  return due === undefined ? undefined : Math.max(0, Math.ceil(due - state.now));
}
