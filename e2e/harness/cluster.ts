// Helpers for e2e test files: the shared cluster started by global-setup.ts, kubectl, polling.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Runs kubectl against a kubeconfig; resolves with stdout, rejects with stderr on failure. */
export function kubectl(kubeconfigPath: string, args: string[], input?: string): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`kubectl ${args.join(' ')}: ${err.trim()}`))));
    child.stdin.end(input ?? '');
  });
}

/** Polls fn until it returns something other than undefined/false, or throws after timeoutMs. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `; last error: ${String(last)}` : ''}`);
}

export interface TestCluster {
  kubeconfigPath: string;
  /** Folder with certs and logs; undefined when reusing an external cluster. */
  dir: string | undefined;
  kubectl(args: string[], input?: string): Promise<string>;
  /** Creates a namespace named `${prefix}-<random>` and returns its name. */
  createNamespace(prefix?: string): Promise<string>;
  /** Deletes a namespace without waiting for finalization. */
  deleteNamespace(name: string): Promise<void>;
}

export function loadTestCluster(): TestCluster {
  const kubeconfigPath = process.env.LOCKSTEP_KUBECONFIG;
  if (!kubeconfigPath) throw new Error('LOCKSTEP_KUBECONFIG is not set: run e2e tests through jest --selectProjects e2e');
  const run = (args: string[], input?: string) => kubectl(kubeconfigPath, args, input);
  return {
    kubeconfigPath,
    dir: process.env.LOCKSTEP_CLUSTER_DIR,
    kubectl: run,
    async createNamespace(prefix = 'e2e') {
      const name = `${prefix.toLowerCase().slice(0, 50)}-${randomBytes(4).toString('hex')}`;
      await run(['create', 'namespace', name]);
      return name;
    },
    async deleteNamespace(name) {
      await run(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
    },
  };
}
