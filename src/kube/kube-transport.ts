import { IsomorphicFetchHttpLibrary, RequestContext, type KubeConfig, type ResponseContext } from '@kubernetes/client-node';
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

type Dispatcher = ReturnType<RequestContext['getDispatcher']>;

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Sends requests to the API server through client-node's own HTTP stack (its authentication,
 * TLS options and undici fetch), counts each one, and maps failures to `kube-errors.ts`.
 *
 * client-node 2.0.1 builds a new undici Agent (so a new TLS connection pool) on every
 * `applySecurityAuthentication` call; we keep the first one and reuse it for every request.
 */
export class KubeTransport {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly server: string;
  private dispatcher: Dispatcher;
  private dispatcherKnown = false;

  constructor(readonly kubeConfig: KubeConfig, private readonly opts: KubeTransportOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  /** Sends one request and returns the parsed JSON body (undefined when empty). */
  async request<T>(req: KubeRequest): Promise<T> {
    const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const response = await this.send(req, signal);
    const text = await this.readText(req, response);
    if (response.httpStatusCode >= 400) throw buildKubeError(response.httpStatusCode, text, describe(req));
    return (text ? JSON.parse(text) : undefined) as T;
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
    const d = this.dispatcher as { close?: () => Promise<void> } | undefined;
    this.dispatcher = undefined;
    await d?.close?.();
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
    this.shareDispatcher(ctx);
    ctx.setHeaderParam('Accept', req.accept ?? 'application/json');
    if (this.opts.userAgent) ctx.setHeaderParam('User-Agent', this.opts.userAgent);
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(req.body));
    }
    ctx.setSignal(signal);
    return ctx;
  }

  private shareDispatcher(ctx: RequestContext): void {
    if (!this.dispatcherKnown) {
      this.dispatcher = ctx.getDispatcher();
      this.dispatcherKnown = true;
    }
    if (this.dispatcher !== undefined) ctx.setDispatcher(this.dispatcher);
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
