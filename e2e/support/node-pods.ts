// Helpers for tests that run real pods on the harness's node (e2e/harness/node.ts).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestCluster } from '../harness/cluster.js';

const run = promisify(execFile);
export const CHART = fileURLToPath(new URL('../../charts/lockstep', import.meta.url));
export { BUSYBOX_IMAGE, OPERATOR_IMAGE } from '../harness/node.js';

/** Fails with a clear message unless the node "127.0.0.1" is Ready (see `make test-e2e`). */
export async function requireNode(cluster: TestCluster): Promise<void> {
  let ready = '';
  try {
    ready = await cluster.kubectl(['get', 'node', '127.0.0.1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
  } catch { /* no node object */ }
  if (ready.trim() !== 'True') {
    throw new Error('this test runs pods and needs the harness node: run it through `make test-e2e` (a private network namespace), not bare jest');
  }
}

let helmPath: Promise<string> | undefined;
/** The pinned helm, built once by e2e/node/install.sh. */
export function helmBinary(): Promise<string> {
  helmPath ??= run('bash', [fileURLToPath(new URL('../node/install.sh', import.meta.url))], { maxBuffer: 1 << 24 })
    .then(({ stdout }) => `${stdout.trim().split('\n').at(-1) ?? ''}/helm`);
  return helmPath;
}

/** Runs helm against the test cluster; resolves with stdout, rejects with stderr. */
export async function helm(cluster: TestCluster, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(await helmBinary(), ['--kubeconfig', cluster.kubeconfigPath, ...args], { maxBuffer: 1 << 24 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')}: ${e.stderr?.trim() ?? e.message}`);
  }
}

export interface PodJson {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

export async function pods(cluster: TestCluster, namespace: string, selector: string): Promise<PodJson[]> {
  const out = await cluster.kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']);
  return (JSON.parse(out) as { items: PodJson[] }).items;
}

export const isReady = (p: PodJson): boolean =>
  !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Runs a command in a pod's container and returns its stdout. */
export async function exec(cluster: TestCluster, namespace: string, pod: string, command: string[]): Promise<string> {
  return cluster.kubectl(['exec', '-n', namespace, pod, '--', ...command]);
}
