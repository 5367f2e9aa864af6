// A pass-through HTTP proxy on 127.0.0.1 that counts the requests a provider client really sends
// (after the operator's sharing and batching), classified by the caller: the AWS action from
// X-Amz-Target, or the Vault path. Headers, including Host, go through unchanged, so AWS SigV4
// signatures made for the proxy's address still verify at moto.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';

export type Classifier = (req: IncomingMessage) => string;

export class CountingProxy {
  readonly counts = new Map<string, number>();
  private constructor(private readonly server: Server, readonly port: number) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(upstream: string, classify: Classifier): Promise<CountingProxy> {
    const target = new URL(upstream);
    let proxy: CountingProxy | undefined;
    const server = createServer((req, res) => {
      const kind = classify(req);
      proxy?.counts.set(kind, (proxy.counts.get(kind) ?? 0) + 1);
      const up = request({
        host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers,
      }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy: ${err.message}`);
      });
      req.pipe(up);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy: no port');
    proxy = new CountingProxy(server, address.port);
    return proxy;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

/** Difference b - a of two count snapshots (keys with no change left out). */
export function diffCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (v - (a[k] ?? 0) !== 0) out[k] = v - (a[k] ?? 0);
  return out;
}

export function sumCounts(c: Record<string, number>, pick: (k: string) => boolean = () => true): number {
  return Object.entries(c).filter(([k]) => pick(k)).reduce((s, [, v]) => s + v, 0);
}

/** `secretsmanager.BatchGetSecretValue` → `BatchGetSecretValue`; STS and others by their Action. */
export function awsAction(req: IncomingMessage): string {
  const t = req.headers['x-amz-target'];
  if (typeof t === 'string') return t.split('.').at(-1) ?? t;
  return `${req.method} ${req.url ?? ''}`.slice(0, 60);
}

/** Vault paths with the secret part collapsed: `GET secret/data/*`, `PUT auth/approle/login`. */
export function vaultPath(req: IncomingMessage): string {
  const path = (req.url ?? '').split('?')[0]?.replace(/^\/v1\//, '') ?? '';
  const kv = /^([^/]+)\/(data|metadata)\//.exec(path);
  if (kv) return `${req.method} ${kv[1]}/${kv[2]}/*`;
  return `${req.method} ${path}`;
}
