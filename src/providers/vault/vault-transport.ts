/**
 * The HTTP transport under node-vault. node-vault 0.12 sends requests through axios but forwards
 * only method, url, headers, body, timeout and agents — not an AbortSignal — so a deadline could
 * not cancel a request. It accepts a replacement transport through its documented
 * `request-promise` option; this one is Node's http/https with the caller's AbortSignal, one
 * keep-alive agent per store client (presenting the store's `tls` client certificate, if any), and
 * the store's CA bundle as the only trust anchors when one is given (never VAULT_SKIP_VERIFY or
 * other environment variables).
 */
import http from 'node:http';
import https from 'node:https';
import { openNetwork, type StoreNetwork } from '../store-network.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** What node-vault hands to its transport. */
export interface TransportRequest {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
  signal?: AbortSignal;
  /** A TLS client certificate for this request only (cert auth's login): sent on a connection of its own, never pooled. */
  clientCert?: ClientCertificate;
  /** The store's `tls` certificate: presented on the pooled connections (every request but cert auth's login). */
  storeCert?: ClientCertificate;
}

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
}

/** What node-vault expects back (the shape `request-promise` resolved with). */
export interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

export interface VaultTransport {
  send(req: TransportRequest): Promise<TransportResponse>;
  close(): void;
}

export class ResponseTooLargeError extends Error {}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined; // not JSON (a proxy's error page): node-vault reports the status alone
  }
}

function readResponse(res: http.IncomingMessage, path: string): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) res.destroy(new ResponseTooLargeError(`response larger than ${MAX_BODY_BYTES} bytes`));
      else chunks.push(chunk);
    });
    res.on('error', reject);
    res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks)), request: { path } }));
  });
}

/** A pool replaced by one with another client certificate is closed this long after, when its requests are done. */
const RETIRED_POOL_MS = 60_000;

const samePair = (a: ClientCertificate | undefined, b: ClientCertificate | undefined) => a?.certPem === b?.certPem && a?.keyPem === b?.keyPem;

export function createVaultTransport(opts: { caPem?: string; network?: StoreNetwork } = {}): VaultTransport {
  const network = opts.network ?? openNetwork;
  const ca = opts.caPem ? { ca: opts.caPem } : {};
  const httpAgent = network.httpAgent({ keepAlive: true, maxSockets: 16 });
  // The pooled HTTPS connections, and the client certificate they present (the store's `tls`).
  let pool: { cert?: ClientCertificate; agent: https.Agent } = { agent: network.httpsAgent({ keepAlive: true, maxSockets: 16, ...ca }) };
  const retired = new Set<{ agent: https.Agent; timer: NodeJS.Timeout | undefined }>();
  /** The pool presenting `cert`: a new certificate gets a new pool (open connections keep the handshake they made). */
  const httpsAgentFor = (cert: ClientCertificate | undefined): https.Agent => {
    if (samePair(cert, pool.cert)) return pool.agent;
    const entry = { agent: pool.agent, timer: undefined as NodeJS.Timeout | undefined };
    entry.timer = setTimeout(() => {
      entry.agent.destroy();
      retired.delete(entry);
    }, RETIRED_POOL_MS).unref();
    retired.add(entry);
    pool = { cert, agent: network.httpsAgent({ keepAlive: true, maxSockets: 16, ...ca, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) }) };
    return pool.agent;
  };

  const send = (req: TransportRequest): Promise<TransportResponse> => {
    const url = new URL(req.uri);
    const isHttps = url.protocol === 'https:';
    const body = req.json !== undefined && typeof req.json === 'object' ? JSON.stringify(req.json) : undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      // A login with a client certificate gets an agent of its own, so no pooled connection ever carries it.
      const own = isHttps && req.clientCert ? network.httpsAgent({ keepAlive: false, ...ca, cert: req.clientCert.certPem, key: req.clientCert.keyPem }) : undefined;
      const options = { method: req.method, headers, signal: req.signal, agent: own ?? (isHttps ? httpsAgentFor(req.storeCert) : httpAgent) };
      const onResponse = (res: http.IncomingMessage) => readResponse(res, url.pathname).then(resolve, reject);
      const request = isHttps ? https.request(url, options, onResponse) : http.request(url, options, onResponse);
      request.on('error', reject);
      if (own) request.on('close', () => own.destroy());
      request.end(body);
    });
  };

  return {
    send,
    close() {
      httpAgent.destroy();
      pool.agent.destroy();
      for (const r of retired) {
        clearTimeout(r.timer);
        r.agent.destroy();
      }
      retired.clear();
    },
  };
}
