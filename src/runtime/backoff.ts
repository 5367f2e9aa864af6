/** A source of uniform random numbers in [0, 1); injected so tests are deterministic. */
export type Random = () => number;

export interface BackoffOptions {
  /** Delay for the first attempt (attempt 0). */
  readonly baseMs: number;
  /** Cap applied to the exponential delay before jitter (as client-go's `wait.Backoff.Cap`). */
  readonly maxMs: number;
  /** Fraction in [0, 1]: the result lies within ±jitter of the capped delay. */
  readonly jitter: number;
}

/**
 * Spreads `ms` uniformly over [ms·(1−fraction), ms·(1+fraction)).
 * A fraction of 0 (or a non-positive `ms`) returns `ms` unchanged.
 */
export function jitter(ms: number, fraction: number, random: Random = Math.random): number {
  if (ms <= 0 || fraction <= 0) return Math.max(0, ms);
  const spread = Math.min(fraction, 1);
  return ms * (1 - spread + 2 * spread * random());
}

/**
 * Exponential backoff: `baseMs · 2^attempt`, capped at `maxMs`, then jittered.
 * `attempt` counts previous failures (0 for the first retry).
 */
export function computeBackoff(attempt: number, opts: BackoffOptions, random: Random = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt));
  const raw = opts.baseMs * 2 ** exponent;
  const capped = Math.min(opts.maxMs, Number.isFinite(raw) ? raw : opts.maxMs);
  return jitter(Math.max(0, capped), opts.jitter, random);
}
