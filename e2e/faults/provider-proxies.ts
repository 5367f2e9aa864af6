// Fault injection between the operator and a provider peer, on 127.0.0.1:
// - `FaultyHttpsProxy`: terminates TLS with a certificate from a test CA the store trusts, forwards
//   each request to the peer (http or https) and counts it; a fault answers instead (a status with
//   headers and body: throttling, 5xx, auth) or holds the request past the operator's deadline.
// - `TlsSwitch`: a TCP front that passes bytes through, or, when switched to "rogue", ends TLS
//   itself with a certificate from a CA nobody trusts (what a TLS-intercepting box or a swapped
//   endpoint looks like to the client). Counts connections either way.
// Certificates are made here with openssl, for 127.0.0.1 and localhost, valid two days.
import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A CA and a serving certificate for 127.0.0.1 / localhost signed by it. */
export async function makeCertificate(label: string): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), `lockstep-faults-${label}-`));
  const ssl = (args: string[]) => run('openssl', args, { cwd: dir, timeout: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await ssl(['req', '-x509', ...ec, '-days', '2', '-subj', `/CN=lockstep ${label} CA`, '-keyout', 'ca.key', '-out', 'ca.pem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await ssl(['req', ...ec, '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  await ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
  const [caPem, certPem, keyPem] = await Promise.all(['ca.pem', 'server.pem', 'server.key'].map((f) => readFile(join(dir, f), 'utf8')));
  return { caPem: caPem as string, certPem: certPem as string, keyPem: keyPem as string };
}

/** What the proxy does with the next requests. */
export type HttpFault =
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body: string }
  /** Holds each request this long (past the operator's deadline), then answers 504. */
  | { kind: 'hold'; ms: number };

export class FaultyHttpsProxy {
  /** Requests received (each one an HTTP request the operator's SDK sent). */
  requests = 0;
  fault: HttpFault | undefined;
  private readonly held = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: HttpsServer, readonly port: number) {}

  static async start(opts: { upstream: string; upstreamCa?: string; cert: TestCertificate }): Promise<FaultyHttpsProxy> {
    const target = new URL(opts.upstream);
    const send = (target.protocol === 'https:' ? httpsRequest : httpRequest) as typeof httpsRequest;
    const self: { proxy?: FaultyHttpsProxy } = {};
    const server = createHttpsServer({ cert: opts.cert.certPem, key: opts.cert.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => self.proxy?.handle(req, res, Buffer.concat(chunks), send, target, opts.upstreamCa));
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy: no port');
    self.proxy = new FaultyHttpsProxy(server, address.port);
    return self.proxy;
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer, send: typeof httpsRequest, target: URL, ca?: string): void {
    this.requests += 1;
    const fault = this.fault;
    if (fault?.kind === 'respond') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body);
      return;
    }
    if (fault?.kind === 'hold') {
      const timer = setTimeout(() => {
        this.held.delete(timer);
        if (!res.destroyed) res.writeHead(504).end();
      }, fault.ms);
      this.held.add(timer);
      res.on('close', () => {
        clearTimeout(timer);
        this.held.delete(timer);
      });
      return;
    }
    const up = send({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, ca, agent: false }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    up.end(body);
  }

  /** Drops kept-alive connections (so a fault is seen on the very next request). */
  dropConnections(): void {
    this.server.closeIdleConnections();
  }

  stop(): Promise<void> {
    for (const t of this.held) clearTimeout(t);
    this.server.closeAllConnections();
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

export class TlsSwitch {
  /** Connections accepted in total, and while rogue. */
  connections = 0;
  rogueConnections = 0;
  private rogue = false;
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number, rogueCert: TestCertificate): Promise<TlsSwitch> {
    const context: SecureContext = createSecureContext({ cert: rogueCert.certPem, key: rogueCert.keyPem });
    const self: { tls?: TlsSwitch } = {};
    const server = createServer((client) => self.tls?.accept(client, targetPort, context));
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('tls switch: no port');
    self.tls = new TlsSwitch(server, address.port);
    return self.tls;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  private accept(client: Socket, targetPort: number, context: SecureContext): void {
    this.connections += 1;
    client.on('error', () => client.destroy());
    if (this.rogue) {
      this.rogueConnections += 1;
      const tls = new TLSSocket(client, { isServer: true, secureContext: context });
      tls.on('error', () => client.destroy());
      tls.on('secure', () => tls.end());
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop).on('close', drop);
    client.on('close', drop);
    client.pipe(upstream).pipe(client);
  }

  /** Rogue: every open connection is reset and new ones get the untrusted certificate. */
  setRogue(rogue: boolean): void {
    this.rogue = rogue;
    if (!rogue) return;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  close(): Promise<void> {
    this.setRogue(true);
    return new Promise((ok) => this.server.close(() => ok()));
  }
}
