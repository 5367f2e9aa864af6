/**
 * The HTTP/1.1 client the API server is reached through: node's own http/https with one keep-alive
 * agent, TLS material and the bearer token from `kube-access.ts`. Each watch has its own socket;
 * aborting a request (deadline, idle watch) destroys exactly its socket.
 */
import type * as Http from 'node:http';
import { http, https, withSecureContext } from '../runtime/node-http.js';
import { Readable } from 'node:stream';
import type { KubeAccess } from './kube-access.js';

/** What the transport reads of an answer (client-node's ResponseContext has the same shape). */
export interface HttpResponse {
  httpStatusCode: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: { text(): Promise<string>; stream(): ReadableStream<Uint8Array> | undefined };
}

export interface HttpRequest {
  method: string;
  /** Path plus query string, below the server's URL. */
  path: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
}

export interface HttpSender {
  send(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse>;
  close(): Promise<void>;
}

export class NodeHttpSender implements HttpSender {
  private readonly agent: Http.Agent;
  private readonly url: URL;
  private readonly tls: boolean;

  constructor(private readonly access: KubeAccess, private readonly userAgent?: string) {
    this.url = new URL(access.server);
    this.tls = this.url.protocol === 'https:';
    const pool = { keepAlive: true, maxFreeSockets: 32, scheduling: 'lifo' as const };
    // One TLS context (withSecureContext): given as ca, cert and key, the agent decoded the three
    // into its pool's name three times a request (2.9 MB a second of strings in a soak round at
    // 10,000 ExternalSecrets, sampled).
    this.agent = this.tls
      ? new https.Agent(withSecureContext({
        ...pool, ca: access.ca, cert: access.cert, key: access.key,
        rejectUnauthorized: !access.insecureSkipTlsVerify, servername: access.servername,
      }))
      : new http.Agent(pool);
  }

  send(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string | number> = { Accept: req.accept ?? 'application/json' };
    if (this.userAgent) headers['User-Agent'] = this.userAgent;
    const token = this.access.token?.();
    if (token) headers['Authorization'] = `Bearer ${token}`;
    if (body) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = body.length;
    }
    const options: Http.RequestOptions = {
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || (this.tls ? 443 : 80),
      path: this.url.pathname.replace(/\/+$/, '') + req.path,
      method: req.method, headers, agent: this.agent, signal,
    };
    return new Promise((resolve, reject) => {
      const request = (this.tls ? https : http).request(options, (res) => resolve(wrapResponse(res)));
      request.once('error', reject);
      request.end(body);
    });
  }

  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }
}

function wrapResponse(res: Http.IncomingMessage): HttpResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    httpStatusCode: res.statusCode ?? 0,
    headers,
    body: {
      text: async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      },
      stream: () => Readable.toWeb(res) as ReadableStream<Uint8Array>,
    },
  };
}
