/**
 * The fallback HTTP client for kubeconfigs only `@kubernetes/client-node` understands (exec
 * credential plugins, auth-providers, proxies, basic auth): its authentication and TLS settings on
 * one HTTP/1.1 undici pool. Imported only when such a kubeconfig is used: loading client-node costs
 * ~80 MB.
 *
 * client-node 2.0.1 would build a new undici Agent for every request, and undici negotiates HTTP/2
 * with the API server: then every request and watch shares one TCP connection, a connection that
 * goes silent stalls them all, and destroying such a session can emit an unhandled 'error' on a
 * detached HTTP/2 stream, which kills the process. Hence our own pool with HTTP/2 off.
 */
import type { AgentOptions } from 'node:https';
import { IsomorphicFetchHttpLibrary, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import type { HttpRequest, HttpResponse, HttpSender } from './http-sender.js';

export class ClientNodeSender implements HttpSender {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly kubeConfig = new KubeConfig();
  private readonly server: string;
  private pool: Promise<Dispatcher | undefined> | undefined;

  constructor(kubeconfigPath: string, private readonly userAgent?: string) {
    this.kubeConfig.loadFromFile(kubeconfigPath);
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  async send(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const ctx = new RequestContext(this.server + req.path, req.method as never);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const pool = await this.sharedPool(ctx.getDispatcher());
    if (pool) ctx.setDispatcher(pool);
    ctx.setHeaderParam('Accept', req.accept ?? 'application/json');
    if (this.userAgent) ctx.setHeaderParam('User-Agent', this.userAgent);
    if (req.body !== undefined) {
      ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(req.body));
    }
    ctx.setSignal(signal);
    return (await this.http.send(ctx).toPromise()) as HttpResponse;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    const dispatcher = await pool?.catch(() => undefined);
    await dispatcher?.close();
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

  /** Behind an HTTP or SOCKS proxy client-node's own dispatcher is kept; plain http uses undici's default. */
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
}
