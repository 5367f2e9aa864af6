export interface BackoffPolicy {
  /** Delay before the first retry (default 500 ms). */
  baseMs?: number;
  /** Cap (default 30 s). */
  maxMs?: number;
}

export const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 30_000 } as const;

/**
 * Capped exponential backoff with jitter: attempt 1 waits about `baseMs`, each further attempt twice
 * as long, up to `maxMs`; the result is drawn from [50 %, 100 %] of that so that many informers
 * restarting together (after an API server restart) do not reconnect in lockstep.
 */
export function computeBackoffMs(attempt: number, policy: BackoffPolicy = {}, random: () => number = Math.random): number {
  const base = policy.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = policy.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(max, base * 2 ** exponent);
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}
