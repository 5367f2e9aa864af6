import type { AgentOptions } from 'node:https';
import { IsomorphicFetchHttpLibrary, RequestContext, type KubeConfig, type ResponseContext } from '@kubernetes/client-node';
// undici is client-node's own HTTP client (a dependency of it); we use it only to build the
// connection pool with HTTP/2 turned off.
import { Agent, type Dispatcher } from 'undici';
import { buildKubeError, buildTransportError } from './kube-errors.js';

/** Called once per API request (watches included) with its HTTP status, or 0 when none came back. */
export interface KubeRequestMetrics {
  onRequest(verb: string, resource: string, code: number): void;
}

export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface KubeRequest {
  /** Logical verb for metrics and messages: get, list, watch, create, apply, patch, update, delete. */
  verb: string;
  method: HttpVerb;
  /** Path plus query string, e.g. `/api/v1/namespaces/a/secrets?limit=500`. */
  path: string;
  /** Metrics label of the resource (`secrets`, `widgets.example.com/status`). */
  resource: string;
  /** Names the target in error messages (`team-a/db`). */
  target: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

export interface KubeTransportOptions {
  metrics?: KubeRequestMetrics;
  userAgent?: string;
  /** Deadline of every non-watch request (default 30 s). */
  requestTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Resends of one request the server answered with Retry-After (client-go allows 10). */
const MAX_RETRY_AFTER = 10;

/**
 * Sends requests to the API server through client-node's own HTTP stack (its authentication,
 * TLS settings and undici fetch), counts each one, and maps failures to `kube-errors.ts`.
 *
 * One connection pool serves every request, speaking HTTP/1.1. client-node 2.0.1 would build a new
 * undici Agent for every request, and undici 8 negotiates HTTP/2 with the API server: then every
 * request and watch shares one TCP connection, a connection that goes silent stalls them all
 * (undici's PINGs have no timeout), and destroying such a session can emit an unhandled 'error'
 * on a detached HTTP/2 stream, which kills the process. With HTTP/1.1 each watch has its own
 * connection, and aborting a request (deadline, idle watch) discards exactly that connection.
 */
export class KubeTransport {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly server: string;
  private pool: Promise<Dispatcher | undefined> | undefined;

  constructor(readonly kubeConfig: KubeConfig, private readonly opts: KubeTransportOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  /**
   * Sends one request and returns the parsed JSON body (undefined when empty). A 429 or 5xx that
   * carries `Retry-After` is sent again after that many seconds, as client-go does (the server
   * did not process it), up to MAX_RETRY_AFTER times and within the request's deadline.
   */
  async request<T>(req: KubeRequest): Promise<T> {
    const deadlineMs = this.opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const endsAt = Date.now() + deadlineMs;
    const timeout = AbortSignal.timeout(deadlineMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    for (let attempt = 1; ; attempt++) {
      const response = await this.send(req, signal);
      const text = await this.readText(req, response);
      if (response.httpStatusCode < 400) return (text ? JSON.parse(text) : undefined) as T;
      const waitMs = parseRetryAfterMs(response);
      const retry = waitMs !== undefined && attempt <= MAX_RETRY_AFTER && Date.now() + waitMs < endsAt;
      if (!retry) throw buildKubeError(response.httpStatusCode, text, describe(req));
      await sleepUnlessAborted(waitMs, signal);
      if (signal.aborted) throw buildTransportError(describe(req), signal.reason);
    }
  }

  /**
   * Opens a streaming request (a watch). Resolves with the response once headers arrived; the
   * caller reads `body.stream()` and must abort `signal` when done. Non-200 answers are thrown.
   */
  async openStream(req: KubeRequest, signal: AbortSignal): Promise<ResponseContext> {
    const response = await this.send(req, signal);
    if (response.httpStatusCode !== 200) {
      const text = await this.readText(req, response);
      throw buildKubeError(response.httpStatusCode, text, describe(req));
    }
    return response;
  }

  /** Releases pooled connections. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    const dispatcher = await pool?.catch(() => undefined);
    await dispatcher?.close();
  }

  private async send(req: KubeRequest, signal: AbortSignal): Promise<ResponseContext> {
    let response: ResponseContext;
    try {
      const ctx = await this.buildContext(req, signal);
      response = await this.http.send(ctx).toPromise();
    } catch (err) {
      this.count(req, 0);
      throw buildTransportError(describe(req), signal.aborted ? (signal.reason ?? err) : err);
    }
    this.count(req, response.httpStatusCode);
    return response;
  }

  private async readText(req: KubeRequest, response: ResponseContext): Promise<string> {
    try {
      return await response.body.text();
    } catch (err) {
      throw buildTransportError(describe(req), err);
    }
  }

  private async buildContext(req: KubeRequest, signal: AbortSignal): Promise<RequestContext> {
    const ctx = new RequestContext(this.server + req.path, req.method);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const pool = await this.sharedPool(ctx.getDispatcher());
    if (pool) ctx.setDispatcher(pool);
    ctx.setHeaderParam('Accept', req.accept ?? 'application/json');
    if (this.opts.userAgent) ctx.setHeaderParam('User-Agent', this.opts.userAgent);
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(req.body));
    }
    ctx.setSignal(signal);
    return ctx;
  }

  /** Built once; a failed build (for example an exec credential plugin error) is retried next time. */
  private sharedPool(fromClientNode: Dispatcher | undefined): Promise<Dispatcher | undefined> {
    if (!this.pool) {
      const pool = this.buildPool(fromClientNode);
      pool.catch(() => {
        if (this.pool === pool) this.pool = undefined;
      });
      this.pool = pool;
    }
    return this.pool;
  }

  /**
   * An HTTP/1.1 pool with client-node's TLS settings. Behind an HTTP or SOCKS proxy we keep
   * client-node's own dispatcher; over plain http (no TLS) undici's default is used.
   */
  private async buildPool(fromClientNode: Dispatcher | undefined): Promise<Dispatcher | undefined> {
    const tls: AgentOptions & { headers?: unknown } = {};
    await this.kubeConfig.applyToHTTPSOptions(tls);
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = tls;
    const options = this.kubeConfig.createDispatcherOptions(this.kubeConfig.getCurrentCluster(), {
      ca, cert, key, pfx, passphrase, rejectUnauthorized, servername,
    });
    if (options.type === 'none') return undefined;
    if (options.type !== 'agent') return fromClientNode;
    return new Agent({ connect: options.connect, allowH2: false });
  }

  private count(req: KubeRequest, code: number): void {
    try {
      this.opts.metrics?.onRequest(req.verb, req.resource, code);
    } catch {
      // a failing metrics callback must not fail the request
    }
  }
}

function describe(req: KubeRequest): string {
  return `${req.verb} ${req.resource}${req.target ? ` ${req.target}` : ''}`;
}

/** Retry-After of a 429 or 5xx answer, in ms (whole seconds, as the apiserver sends it). */
function parseRetryAfterMs(response: ResponseContext): number | undefined {
  const status = response.httpStatusCode;
  if (status !== 429 && status < 500) return undefined;
  const value = response.headers['retry-after'];
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value) * 1000;
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
