/**
 * What the API's kinds share that the operator's start path needs: no zod here (the schemas are
 * in common-schemas.ts; loading zod costs ~9 MB of RSS, which an operator with no objects never
 * needs: see schema-loader.ts).
 */
export type { Condition, Duration, LabelSelector, SecretKeySelector, ServiceAccountSelector } from './common-schemas.js';

/** A Go-style duration ("1h", "15m", "30s", "1h30m"); "0" disables periodic refresh. */
export const DURATION_PATTERN = /^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h))+)$/;

/** Parses a Duration into milliseconds. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) {
    total += Number(n) * (units[unit as string] ?? 0);
  }
  return Math.round(total);
}
