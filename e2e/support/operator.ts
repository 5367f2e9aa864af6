// Runs the real operator (`lockstep controller`) as a child process against a test cluster, keeping
// everything it prints so tests can read its metrics and scan its output for leaked values.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { eventually, kubectl } from '../harness/cluster.js';
import { chartIdentity, type ChartRbac } from './chart-rbac.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface OperatorOptions {
  kubeconfigPath: string;
  /** Namespace the operator keeps its hash key and Lease in; created if missing. */
  operatorNamespace: string;
  /** Watch only this namespace. */
  namespace?: string;
  leaderElect?: boolean;
  identity?: string;
  extraArgs?: string[];
  /**
   * Whose rights the operator runs with: the admin kubeconfig (default), or the Helm chart's own
   * ServiceAccount and RBAC, cluster-wide ('chart') or namespaced Roles only ('chart-namespaced').
   */
  rbac?: 'admin' | ChartRbac;
}

export interface RunningOperator {
  readonly healthPort: number;
  readonly process: ChildProcess;
  /** Everything the operator wrote to stdout and stderr so far. */
  output(): string;
  metrics(): Promise<string>;
  /** Sum of a counter's samples whose labels contain every given `name="value"` pair. */
  counter(name: string, labels?: Record<string, string>): Promise<number>;
  ready(): Promise<boolean>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => ok(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Installs the CRDs (idempotent) and the operator namespace. */
export async function prepareCluster(kubeconfigPath: string, operatorNamespace: string): Promise<void> {
  await kubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', resolve(ROOT, 'crds')]);
  await kubectl(kubeconfigPath, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  const ns = `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${operatorNamespace} }\n`;
  await kubectl(kubeconfigPath, ['apply', '-f', '-'], ns);
}

export async function startOperator(opts: OperatorOptions): Promise<RunningOperator> {
  const healthPort = await freePort();
  const chart = opts.rbac && opts.rbac !== 'admin'
    ? await chartIdentity(opts.kubeconfigPath, opts.operatorNamespace, opts.namespace ? [opts.namespace] : [], opts.rbac)
    : undefined;
  // `--import tsx` runs the TypeScript source in this one process (the tsx CLI would fork a child
  // that a SIGKILL of the parent leaves running).
  const args = [
    '--import', 'tsx',
    resolve(ROOT, 'src/cmd/main.ts'),
    'controller',
    '--kubeconfig', chart?.kubeconfigPath ?? opts.kubeconfigPath,
    '--operator-namespace', opts.operatorNamespace,
    '--health-addr', `127.0.0.1:${healthPort}`,
    '--metrics-addr', `127.0.0.1:${healthPort}`,
    '--log-level', 'debug',
    // The chart's own flags (--namespace among them) when running as its ServiceAccount.
    ...(chart ? chart.args : opts.namespace ? ['--namespace', opts.namespace] : []),
    ...(opts.leaderElect ? [] : ['--no-leader-elect']),
    ...(opts.identity ? ['--identity', opts.identity] : []),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(resolve(ROOT, 'node_modules/.bin/node'), args, {
    cwd: ROOT,
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const url = `http://127.0.0.1:${healthPort}`;
  const metrics = async () => (await fetch(`${url}/metrics`)).text();
  const op: RunningOperator = {
    healthPort,
    process: child,
    output: () => output,
    metrics,
    counter: async (name, labels = {}) => sumCounter(await metrics(), name, labels),
    ready: async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      await chart?.remove();
    },
  };
  await eventually(() => {
    if (child.exitCode !== null) throw new Error(`operator exited with ${child.exitCode}:\n${output}`);
    return op.ready();
  }, 60_000, 'the operator to report ready');
  return op;
}

export function sumCounter(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
