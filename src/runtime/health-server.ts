import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http, https } from './node-http.js';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A probe: true when healthy. A check that throws counts as failed. */
export type Check = () => boolean;
/** One check, or several named checks that must all pass. */
export type Checks = Check | Readonly<Record<string, Check>>;

export interface HealthServerOptions {
  /** Interface to bind; defaults to 127.0.0.1 (use 0.0.0.0 for kubelet probes in a pod). */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly registry: Registry;
  readonly checks: { readonly healthz: Checks; readonly readyz: Checks };
  /** Whether this server serves /metrics (default true); probes are always served, and never authenticated. */
  readonly serveMetrics?: boolean;
  /** Decides who may read /metrics (a bearer token reviewed by the API server); absent: anyone who can connect. */
  readonly metricsAuth?: { check(authorization: string | undefined): Promise<{ status: 200 | 401 | 403; message: string }> };
  /** Serve HTTPS with this certificate and key (PEM), so bearer tokens do not cross the network in clear. */
  readonly tls?: { cert: string; key: string };
}

export interface HealthServer {
  /** The port actually bound. */
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `/healthz`, `/readyz` (200 `ok`, or 503 naming the failed checks) and `/metrics`. */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void handle(opts, req, res);
  };
  const server: Server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
  await listen(server, opts.port, opts.host ?? '127.0.0.1');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => close(server),
  };
}

async function handle(opts: HealthServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  try {
    if (path === '/healthz') return probe(res, 'healthz', opts.checks.healthz);
    if (path === '/readyz') return probe(res, 'readyz', opts.checks.readyz);
    if (path === '/metrics' && opts.serveMetrics !== false) return serveMetrics(opts, req, res);
    send(res, 404, 'not found\n');
  } catch (err) {
    send(res, 500, `${err instanceof Error ? err.message : String(err)}\n`);
  }
}

async function serveMetrics(opts: HealthServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (opts.metricsAuth) {
    const decision = await opts.metricsAuth.check(req.headers.authorization).catch(() => ({ status: 503 as const, message: 'cannot review the token now' }));
    if (decision.status === 401) res.setHeader('www-authenticate', 'Bearer');
    if (decision.status !== 200) return send(res, decision.status, `${decision.message}\n`);
  }
  send(res, 200, await opts.registry.metrics(), opts.registry.contentType);
}

function probe(res: ServerResponse, endpoint: string, checks: Checks): void {
  const failed = failedChecks(endpoint, checks);
  if (failed.length === 0) return send(res, 200, 'ok\n');
  send(res, 503, `${endpoint} failed: ${failed.join(', ')}\n`);
}

/** Names of the checks that did not pass; a single check is named after its endpoint. */
export function failedChecks(endpoint: string, checks: Checks): string[] {
  const named = typeof checks === 'function' ? { [endpoint]: checks } : checks;
  return Object.entries(named)
    .filter(([, check]) => !passes(check))
    .map(([name]) => name);
}

function passes(check: Check): boolean {
  try {
    return check() === true;
  } catch {
    return false;
  }
}

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
