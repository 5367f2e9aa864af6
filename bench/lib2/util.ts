// Small shared pieces of the provider and rotation benchmarks: logging, a cleanup stack that stops
// everything by pid even on failure, a plain-text table, PASS/MISS targets, histogram quantiles
// from Prometheus buckets, and the JSON results file under bench/results/.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ROOT, type Metrics } from '../lib/operator-process.js';
import { round } from '../lib/proc.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const seconds = (ms: number) => round(ms / 1000, 2);

export function logger(name: string): (msg: string) => void {
  return (msg) => process.stderr.write(`[${name} ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Runs registered stop functions in reverse order, once, also on SIGINT/SIGTERM. */
export class Cleanup {
  private readonly fns: { what: string; fn: () => Promise<void> | void }[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly log: (msg: string) => void) {
    const onSignal = (sig: string) => {
      log(`${sig}: stopping everything the benchmark started`);
      void this.run().then(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  add(what: string, fn: () => Promise<void> | void): void {
    this.fns.push({ what, fn });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { what, fn } of this.fns.reverse()) {
        try { await fn(); } catch (err) { this.log(`cleanup ${what}: ${(err as Error).message}`); }
      }
    })();
    return this.running;
  }
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

export interface Target {
  name: string;
  value: number | string;
  target: string;
  result: 'PASS' | 'MISS' | 'n/a';
}

export function target(name: string, value: number | undefined, op: '<=' | '==' | '>=', limit: number): Target {
  if (value === undefined || !Number.isFinite(value)) return { name, value: 'n/a', target: `${op} ${limit}`, result: 'n/a' };
  const ok = op === '<=' ? value <= limit : op === '>=' ? value >= limit : value === limit;
  return { name, value, target: `${op} ${limit}`, result: ok ? 'PASS' : 'MISS' };
}

export function printTables(title: string, figures: string[][], targets: Target[]): void {
  process.stdout.write(`\n${title}\n\n${table([['figure', 'value', 'note'], ...figures])}\n\n`);
  process.stdout.write(`${table([['target', 'value', 'target', 'result'], ...targets.map((t) => [t.name, String(t.value), t.target, t.result])])}\n\n`);
}

export function gitDescribe(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function writeResults(prefix: string, startedAt: string, body: unknown, log: (msg: string) => void): Promise<string> {
  const dir = join(ROOT, 'bench/results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${prefix}-${startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify(body, null, 2) + '\n');
  log(`results written to ${relative(process.cwd(), file)}`);
  return file;
}

/** Samples of a counter, difference b - a, keyed by the given labels joined with a space. */
export function counterDiff(a: Metrics, b: Metrics, name: string, labels: string[]): Record<string, number> {
  const before = a.groupBy(name, labels);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.groupBy(name, labels))) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

export interface HistogramSummary {
  count: number;
  sum: number;
  /** Cumulative counts per upper bound (le). */
  buckets: { le: number; count: number }[];
  p50?: number;
  p90?: number;
  p99?: number;
}

/** A quantile by linear interpolation within buckets, as Prometheus' histogram_quantile does. */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe; // in the +Inf bucket: the largest finite bound
      const inBucket = b.count - prevCount;
      return round(prevLe + (b.le - prevLe) * (inBucket === 0 ? 1 : (rank - prevCount) / inBucket), 3);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return undefined;
}

export function histogram(m: Metrics, name: string, where: Record<string, string> = {}): HistogramSummary {
  const byLe = new Map<number, number>();
  for (const s of m.samples) {
    if (s.name !== `${name}_bucket`) continue;
    if (!Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
    const le = s.labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels['le']);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
  return {
    count: m.sum(`${name}_count`, where),
    sum: round(m.sum(`${name}_sum`, where), 3),
    buckets,
    p50: histogramQuantile(0.5, buckets),
    p90: histogramQuantile(0.9, buckets),
    p99: histogramQuantile(0.99, buckets),
  };
}

/** Exact quantile of a list of numbers (nearest rank). */
export function quantile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Logs a failed bench run: the error, then the last lines of the operator's log in `dir`. */
export function logFailure(log: (msg: string) => void, err: unknown, dir: string): void {
  log(`FAILED: ${(err as Error).stack ?? String(err)}`);
  const opLog = join(dir, 'operator.log');
  if (existsSync(opLog)) log(`operator log (last lines):\n${readFileSync(opLog, 'utf8').split('\n').slice(-30).join('\n')}`);
}
