// A minimal Kubernetes REST client for the benchmark: node:https with the client certificate from a
// kubeconfig, a keep-alive pool of a fixed size, JSON in and out. Deliberately independent of
// src/kube, so the floor it measures does not inherit the operator's client costs.
import { request, Agent } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface KubeAccess {
  server: URL;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

interface KubeconfigFile {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
}

/** Reads the first cluster and user of a kubeconfig written by e2e/harness/control-plane.ts. */
export function loadAccess(kubeconfigPath: string): KubeAccess {
  const kc = parse(readFileSync(kubeconfigPath, 'utf8')) as KubeconfigFile;
  const cluster = kc.clusters[0]?.cluster;
  const user = kc.users[0]?.user;
  if (!cluster || !user) throw new Error(`${kubeconfigPath}: no cluster or user`);
  const b64 = (s: string) => Buffer.from(s, 'base64');
  return {
    server: new URL(cluster.server),
    ca: b64(cluster['certificate-authority-data']),
    cert: b64(user['client-certificate-data']),
    key: b64(user['client-key-data']),
  };
}

export class HttpError extends Error {
  constructor(readonly status: number, readonly method: string, readonly path: string, body: string) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export const ContentTypes = {
  json: 'application/json',
  apply: 'application/apply-patch+yaml',
  merge: 'application/merge-patch+json',
} as const;

export interface ListPage<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export class KubeHttp {
  readonly agent: Agent;
  /** Requests sent, by `METHOD kind` (for the floor's request count). */
  readonly counts = new Map<string, number>();

  constructor(readonly access: KubeAccess, maxSockets: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ca: access.ca, cert: access.cert, key: access.key });
  }

  async send<T>(method: string, path: string, body?: unknown, contentType: string = ContentTypes.json): Promise<T> {
    const { status, text } = await this.raw(method, path, body, contentType);
    if (status >= 400) throw new HttpError(status, method, path, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Every page of a list; returns the items and the list's resourceVersion. */
  async listAll<T>(path: string, query: Record<string, string> = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion = '';
    do {
      const qs = new URLSearchParams({ ...query, limit: '500', ...(token ? { continue: token } : {}) });
      const page = await this.send<ListPage<T>>('GET', `${path}?${qs}`);
      items.push(...page.items);
      resourceVersion = page.metadata.resourceVersion;
      token = page.metadata.continue || undefined;
    } while (token);
    return { items, resourceVersion };
  }

  raw(method: string, path: string, body: unknown, contentType: string): Promise<{ status: number; text: string }> {
    const kind = `${method} ${resourceOf(path)}`;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((ok, fail) => {
      const req = request(
        new URL(path, this.access.server),
        {
          method,
          agent: this.agent,
          headers: {
            Accept: 'application/json',
            ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}),
          },
          timeout: 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The resource in an API path: `…/namespaces/a/secrets/b` → `secrets`, `…/x/b/status` → `x/status`. */
export function resourceOf(path: string): string {
  const parts = (path.split('?')[0] ?? '').split('/').filter(Boolean);
  const i = parts.lastIndexOf('namespaces');
  const rest = i >= 0 && parts.length > i + 2 ? parts.slice(i + 2) : parts.slice(-1);
  return rest.length === 3 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? '?');
}

/** Runs fn over items with at most `concurrency` in flight; rejects on the first failure. */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
