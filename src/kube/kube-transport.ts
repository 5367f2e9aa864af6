import type { KubeAccess } from './kube-access.js';
import { buildKubeError, buildTransportError } from './kube-errors.js';
import { NodeHttpSender, type HttpResponse, type HttpSender } from './http-sender.js';
import { withDeadline } from '../runtime/deadline.js';

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
 * Sends requests to the API server, counts each one, and maps failures to `kube-errors.ts`. The
 * requests go through node's http/https (`http-sender.ts`), or, for a kubeconfig only client-node
 * understands, through client-node (`client-node-sender.ts`, loaded only then).
 */
export class KubeTransport {
  readonly server: string;
  private sender: Promise<HttpSender> | undefined;

  constructor(private readonly access: KubeAccess, private readonly opts: KubeTransportOptions & { kubeconfigPath?: string } = {}) {
    this.server = access.server;
  }

  /**
   * Sends one request and returns the parsed JSON body (undefined when empty). A 429 or 5xx that
   * carries `Retry-After` is sent again after that many seconds, as client-go does (the server
   * did not process it), up to MAX_RETRY_AFTER times and within the request's deadline.
   */
  async request<T>(req: KubeRequest): Promise<T> {
    const deadlineMs = this.opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const endsAt = Date.now() + deadlineMs;
    // Not AbortSignal.timeout: see withDeadline (at thousands of requests a minute, timers armed
    // until their deadline were a large share of the heap).
    return withDeadline(deadlineMs, async (deadline) => {
      const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
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
    });
  }

  /**
   * Opens a streaming request (a watch). Resolves with the response once headers arrived; the
   * caller reads `body.stream()` and must abort `signal` when done. Non-200 answers are thrown.
   */
  async openStream(req: KubeRequest, signal: AbortSignal): Promise<HttpResponse> {
    const response = await this.send(req, signal);
    if (response.httpStatusCode !== 200) {
      const text = await this.readText(req, response);
      throw buildKubeError(response.httpStatusCode, text, describe(req));
    }
    return response;
  }

  /** Releases pooled connections. */
  async close(): Promise<void> {
    const sender = this.sender;
    this.sender = undefined;
    await (await sender?.catch(() => undefined))?.close();
  }

  private async send(req: KubeRequest, signal: AbortSignal): Promise<HttpResponse> {
    let response: HttpResponse;
    try {
      response = await (await this.senderFor()).send(req, signal);
    } catch (err) {
      this.count(req, 0);
      throw buildTransportError(describe(req), signal.aborted ? (signal.reason ?? err) : err);
    }
    this.count(req, response.httpStatusCode);
    return response;
  }

  private async readText(req: KubeRequest, response: HttpResponse): Promise<string> {
    try {
      return await response.body.text();
    } catch (err) {
      throw buildTransportError(describe(req), err);
    }
  }

  private senderFor(): Promise<HttpSender> {
    if (!this.sender) {
      const { needsClientNode } = this.access;
      const path = this.opts.kubeconfigPath;
      this.sender = needsClientNode && path
        ? import('./client-node-sender.js').then(({ ClientNodeSender }) => new ClientNodeSender(path, this.opts.userAgent))
        : Promise.resolve(new NodeHttpSender(this.access, this.opts.userAgent));
      this.sender.catch(() => (this.sender = undefined));
    }
    return this.sender;
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
function parseRetryAfterMs(response: HttpResponse): number | undefined {
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
