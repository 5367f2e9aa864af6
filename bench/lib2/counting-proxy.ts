// A pass-through HTTP proxy on 127.0.0.1 that counts the requests a provider client really sends
// (after the operator's sharing and batching), classified by the caller: the AWS action from
// X-Amz-Target, or the Vault path. Headers, including Host, go through unchanged, so AWS SigV4
// signatures made for the proxy's address still verify at moto.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Names a request (its body is buffered: provider requests are small). */
export type Classifier = (req: IncomingMessage, body: Buffer) => string;
/** Sees every request with its name, e.g. to record batch sizes or which keys were read. */
export type Observer = (kind: string, req: IncomingMessage, body: Buffer) => void;

export class CountingProxy {
  private constructor(private readonly server: Server, readonly port: number, readonly counts: Map<string, number>) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(upstream: string, classify: Classifier, observe?: Observer): Promise<CountingProxy> {
    const target = new URL(upstream);
    const counts = new Map<string, number>();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => forward(req, res, Buffer.concat(chunks)));
    });
    const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
      const kind = classify(req, body);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      try { observe?.(kind, req, body); } catch { /* an observer never breaks the call */ }
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
      up.end(body);
    };
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy: no port');
    return new CountingProxy(server, address.port, counts);
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
export function awsAction(req: IncomingMessage, body: Buffer): string {
  const t = req.headers['x-amz-target'];
  if (typeof t === 'string') return t.split('.').at(-1) ?? t;
  // Query APIs (STS, IAM): the Action is a form field of the body.
  const action = new URLSearchParams(body.toString('utf8')).get('Action');
  return action ? `sts/iam ${action}` : `${req.method} ${req.url ?? ''}`.slice(0, 60);
}

/** Vault paths with the secret part collapsed: `GET secret/data/*`, `PUT auth/approle/login`. */
export function vaultPath(req: IncomingMessage): string {
  const path = (req.url ?? '').split('?')[0]?.replace(/^\/v1\//, '') ?? '';
  const kv = /^([^/]+)\/(data|metadata)\//.exec(path);
  if (kv) return `${req.method} ${kv[1]}/${kv[2]}/*`;
  return `${req.method} ${path}`;
}
