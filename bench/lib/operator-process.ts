// Runs the built operator (`node dist/cmd/main.js controller`, or the image's bundle of it) as a
// child process, reads its Prometheus metrics and its memory from /proc, and stops it by pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { MemoryCgroup } from './memory-cgroup.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => ok(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface OperatorOptions {
  kubeconfigPath: string;
  operatorNamespace: string;
  workers: number;
  logFile: string;
  /**
   * 'dist' runs dist/cmd/main.js (default); 'bundle' runs `entry`, the image's /app/main.mjs
   * built by {@link bundleOperator}; 'src' runs src/cmd/main.ts through tsx.
   */
  from: 'dist' | 'bundle' | 'src';
  /** A built main.js to run instead of dist/cmd/main.js (see --ref), or the bundle's main.mjs. */
  entry?: string;
  extraArgs?: string[];
  /**
   * Flags for node itself (e.g. --max-old-space-size=128, --heapsnapshot-signal=SIGUSR2), after
   * the image's own (scripts/operator-node-flags), which they override.
   */
  nodeArgs?: string[];
  /** Working directory (heap snapshots land here); default the repository root. */
  cwd?: string;
  /** Environment variables for the operator on top of the image's (scripts/operator-env) and the benchmark's own. */
  env?: Record<string, string>;
  /** Run the process in a memory cgroup with this limit, as a pod with that limit runs it (see memory-cgroup.ts). */
  memoryLimitBytes?: number;
}

export interface Memory {
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRss: number;
  /** Current resident set size (VmRSS), bytes. */
  rss: number;
  /** With a memory limit: the cgroup's peak (what a pod's memory figure shows) and how often the limit was hit. */
  cgroupPeak?: number;
  cgroupLimitHits?: number;
}

/** The Node the operator runs on (the project's Node 24 from npm, as in the image), whatever runs the benchmark. */
export const OPERATOR_NODE = resolve(ROOT, 'node_modules/.bin/node');
export const operatorNodeVersion = (): string => execFileSync(OPERATOR_NODE, ['--version'], { encoding: 'utf8' }).trim();

/**
 * Bundles `dist` (default dist/) into `dir` exactly as the image's /app is built (`scripts/image.sh --app`: esbuild,
 * minified, split into chunks) and returns the entry point to run, `dir`/main.mjs.
 */
export function bundleOperator(dir: string, dist = resolve(ROOT, 'dist')): string {
  execFileSync('bash', [resolve(ROOT, 'scripts/image.sh'), '--app', dir, dist], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return resolve(dir, 'main.mjs');
}

/** The flags the image runs node with, so that what is measured is what ships. */
export const IMAGE_NODE_FLAGS = readFileSync(resolve(ROOT, 'scripts/operator-node-flags'), 'utf8')
  .split('\n').filter((line) => !line.trim().startsWith('#')).join(' ').split(/\s+/).filter(Boolean);

/**
 * The environment the image sets for the operator (scripts/operator-env, `NAME=value` lines, `#`
 * comments), so the process measured runs with it too.
 */
export const IMAGE_ENV: Record<string, string> = parseEnvFile(resolve(ROOT, 'scripts/operator-env'));

function parseEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const env: Record<string, string> = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${path}: not NAME=value: ${line}`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

export class OperatorProcess {
  readonly startedAt = Date.now();
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(readonly child: ChildProcess, readonly port: number, readonly cgroup?: MemoryCgroup) {
    this.exit = new Promise((ok) => child.once('exit', () => { this.exited = true; cgroup?.remove(); ok(); }));
  }

  static async start(opts: OperatorOptions): Promise<OperatorProcess> {
    const port = await freePort();
    if (opts.from === 'bundle' && !opts.entry) throw new Error("from: 'bundle' needs the entry bundleOperator() returned");
    const entry = opts.from === 'src'
      ? [resolve(ROOT, 'node_modules/tsx/dist/cli.mjs'), resolve(ROOT, 'src/cmd/main.ts')]
      : [opts.entry ?? resolve(ROOT, 'dist/cmd/main.js')];
    const args = [
      ...IMAGE_NODE_FLAGS,
      ...(opts.nodeArgs ?? []),
      ...entry, 'controller',
      '--kubeconfig', opts.kubeconfigPath,
      '--operator-namespace', opts.operatorNamespace,
      '--health-addr', `127.0.0.1:${port}`,
      '--metrics-addr', `127.0.0.1:${port}`,
      '--no-leader-elect',
      '--workers', String(opts.workers),
      '--log-level', 'warn',
      ...(opts.extraArgs ?? []),
    ];
    const log = createWriteStream(opts.logFile);
    const cgroup = opts.memoryLimitBytes ? MemoryCgroup.create(`lockstep-bench-${process.pid}-${port}`, opts.memoryLimitBytes) : undefined;
    const [command, argv] = cgroup ? cgroup.wrap(OPERATOR_NODE, args) : [OPERATOR_NODE, args];
    const child = spawn(command, argv, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...IMAGE_ENV, ...opts.env, AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    await new Promise<void>((ok, fail) => child.once('spawn', ok).once('error', fail));
    return new OperatorProcess(child, port, cgroup);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Resolves when /readyz answers 200 (informers synced), with Date.now() at that moment. */
  async waitReady(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`the operator exited with ${this.child.exitCode}`);
      const res = await fetch(`http://127.0.0.1:${this.port}/readyz`).catch(() => undefined);
      if (res?.status === 200) return Date.now();
      await res?.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('timed out waiting for the operator to report ready');
  }

  async metrics(): Promise<Metrics> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return parseMetrics(await res.text());
  }

  memory(): Memory {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    const cgroup = this.cgroup ? { cgroupPeak: this.cgroup.peak(), cgroupLimitHits: this.cgroup.limitHits() } : {};
    return { peakRss: kb('VmHWM'), rss: kb('VmRSS'), ...cgroup };
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => { if (!this.exited) this.child.kill('SIGKILL'); }, graceMs);
    await this.exit;
    clearTimeout(timer);
  }
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class Metrics {
  constructor(readonly samples: Sample[]) {}

  /** Sum of samples named `name` whose labels match every given pair (a function tests the value). */
  sum(name: string, where: Record<string, string | ((v: string) => boolean)> = {}): number {
    let total = 0;
    for (const s of this.samples) {
      if (s.name !== name) continue;
      const ok = Object.entries(where).every(([k, want]) => {
        const have = s.labels[k];
        return have !== undefined && (typeof want === 'function' ? want(have) : have === want);
      });
      if (ok) total += s.value;
    }
    return total;
  }

  /** Samples of one metric, keyed by `label1=value1,label2=value2` of the chosen labels. */
  groupBy(name: string, labels: string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples) {
      if (s.name !== name) continue;
      const key = labels.map((l) => `${s.labels[l] ?? ''}`).join(' ');
      out[key] = (out[key] ?? 0) + s.value;
    }
    return out;
  }
}

export function parseMetrics(text: string): Metrics {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return new Metrics(samples);
}

/** Difference b - a of every labelled counter sample named `name`, keyed like groupBy. */
export function diffGroups(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v - (a[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
