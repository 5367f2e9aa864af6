// An HTTP-level, fault-injecting reverse proxy on 127.0.0.1 between one operator and the API server.
//
// Why hand-written: the proxy must terminate TLS with a certificate the operator trusts, re-originate
// every request to the apiserver with the admin client certificate, stream watches through, keep a
// per-request log with timestamps (to check Retry-After and who wrote what, when), and fail requests
// by rule: a status with headers, a reset, a delayed answer, a hang, and a watch that stays open but
// goes silent — including a watch that is already open. mockttp comes closest, but it is not a
// dependency of this project (package.json is not ours to change here), and it cannot silence an
// already-streaming response; TCP-level tools (toxiproxy, e2e/kube/tcp-proxy.ts) cannot see HTTP
// verbs or paths through TLS. node:https does the rest in about 300 lines.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubeconfig } from '../harness/control-plane.js';

const run = promisify(execFile);

/** What to do with a request a rule matches. */
export type FaultAction =
  /** Answer with `status` (429, 500, 503...) without forwarding; `retryAfterSeconds` sets Retry-After. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Destroy the client's connection without answering (the client sees a reset). */
  | { kind: 'reset' }
  /** Forward the request, then hold the answer for `delayMs` (the write happens; the client may give up). */
  | { kind: 'delay'; delayMs: number }
  /** Neither forward nor answer: the request hangs until the client gives up. */
  | { kind: 'blackhole' }
  /** Forward a watch and send its headers, then drop every event (the stream stays open). */
  | { kind: 'silent-watch' };

export interface FaultRule {
  method?: RegExp;
  path?: RegExp;
  action: FaultAction;
  /** Apply to this many matching requests, then stop matching (default: unlimited). */
  count?: number;
  /** Apply to this fraction of matching requests (default 1). */
  ratio?: number;
}

export interface RequestRecord {
  id: number;
  method: string;
  path: string;
  /** get, list, watch, create, update, patch, apply, delete (what the operator counts too). */
  verb: string;
  /** Plural, with `/status` for the subresource (`externalsecrets/status`). */
  resource: string;
  namespace?: string;
  name?: string;
  startedAt: number;
  /** The fault injected, if any. */
  fault?: FaultAction['kind'];
  /** Status sent to the client (0 when none was sent). */
  status: number;
  /** When the answer was complete, or the client went away. */
  endedAt?: number;
  /** True when the client closed the connection before the answer was complete. */
  clientAborted: boolean;
  /** Retry-After (seconds) sent with this answer. */
  retryAfterSeconds?: number;
  /** The first 4 KiB of a forwarded write's body (to tell what changed between two writes). */
  body?: string;
}

export interface FaultProxy {
  readonly url: string;
  /** Kubeconfig pointing at the proxy: the harness CA, the admin client certificate. */
  readonly kubeconfigPath: string;
  readonly log: readonly RequestRecord[];
  addRule(rule: FaultRule): FaultRule;
  removeRule(rule: FaultRule): void;
  clearRules(): void;
  /** Stops forwarding events on every open watch whose path matches; returns how many. */
  silenceOpenWatches(path: RegExp): number;
  /** Destroys every open connection (client side). */
  resetAll(): void;
  /** Requests per `verb resource`. */
  counts(filter?: (r: RequestRecord) => boolean): Record<string, number>;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** https://127.0.0.1:PORT of the apiserver. */
  upstream: string;
  /** The harness's pki folder: ca.crt, ca.key, admin.crt, admin.key. */
  pkiDir: string;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const isWrite = (r: RequestRecord): boolean => WRITE_METHODS.has(r.method);

/** Reads the apiserver URL of a kubeconfig written by the harness. */
export function serverOf(kubeconfigPath: string): string {
  const match = /server:\s*(\S+)/.exec(readFileSync(kubeconfigPath, 'utf8'));
  if (!match?.[1]) throw new Error(`no server in ${kubeconfigPath}`);
  return match[1];
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-fault-proxy-'));
  const serving = await makeServingCert(opts.pkiDir, dir);
  const read = (f: string) => readFileSync(join(opts.pkiDir, f));
  const upstream = new URL(opts.upstream);
  const agent = new Agent({ ca: read('ca.crt'), cert: read('admin.crt'), key: read('admin.key'), keepAlive: true });
  const state = new ProxyState();
  const server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => state.handle(req, res, upstream, agent));
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    state.sockets.add(socket);
    socket.once('close', () => state.sockets.delete(socket));
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy has no port');
  const url = `https://127.0.0.1:${address.port}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfigFor(url, opts.pkiDir), { mode: 0o600 });
  return {
    url,
    kubeconfigPath,
    log: state.log,
    addRule: (rule) => (state.rules.push({ rule, left: rule.count ?? Infinity }), rule),
    removeRule: (rule) => { state.rules = state.rules.filter((r) => r.rule !== rule); },
    clearRules: () => { state.rules = []; },
    silenceOpenWatches: (path) => state.silence(path),
    resetAll: () => { for (const s of state.sockets) s.destroy(); },
    counts: (filter) => countBy(state.log.filter(filter ?? (() => true))),
    close: () => closeServer(server, state, agent),
  };
}

interface ActiveRule {
  rule: FaultRule;
  left: number;
}

interface OpenWatch {
  path: string;
  silent: boolean;
}

class ProxyState {
  readonly log: RequestRecord[] = [];
  readonly sockets = new Set<Duplex>();
  readonly watches = new Set<OpenWatch>();
  rules: ActiveRule[] = [];

  silence(path: RegExp): number {
    let n = 0;
    for (const w of this.watches) if (path.test(w.path) && !w.silent) { w.silent = true; n++; }
    return n;
  }

  handle(req: IncomingMessage, res: ServerResponse, upstream: URL, agent: Agent): void {
    const path = req.url ?? '/';
    const record: RequestRecord = {
      id: this.log.length, method: req.method ?? 'GET', path, startedAt: Date.now(), status: 0, clientAborted: false,
      ...describeRequest(req.method ?? 'GET', path, String(req.headers['content-type'] ?? '')),
    };
    this.log.push(record);
    res.once('close', () => {
      record.endedAt ??= Date.now();
      if (!res.writableFinished) record.clientAborted = true;
    });
    const action = this.match(record);
    record.fault = action?.kind;
    if (action?.kind === 'status') return answer(res, record, action.status, action.retryAfterSeconds);
    if (action?.kind === 'reset') { req.socket.destroy(); return; }
    if (action?.kind === 'blackhole') { req.resume(); return; }
    this.forward(req, res, record, upstream, agent, action);
  }

  private match(record: RequestRecord): FaultAction | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (active.left <= 0) continue;
      if (rule.method && !rule.method.test(record.method)) continue;
      if (rule.path && !rule.path.test(record.path)) continue;
      if (rule.ratio !== undefined && Math.random() >= rule.ratio) continue;
      active.left--;
      return rule.action;
    }
    return undefined;
  }

  private forward(req: IncomingMessage, res: ServerResponse, record: RequestRecord, upstream: URL, agent: Agent, action?: FaultAction): void {
    const headers = { ...req.headers, host: upstream.host };
    const out = httpsRequest({ hostname: upstream.hostname, port: upstream.port, path: record.path, method: record.method, headers, agent }, (up) => {
      const send = () => this.relay(up, res, record, action?.kind === 'silent-watch');
      if (action?.kind === 'delay') setTimeout(send, action.delayMs).unref();
      else send();
    });
    out.on('error', () => { record.endedAt ??= Date.now(); res.destroy(); });
    if (WRITE_METHODS.has(record.method)) {
      req.on('data', (d: Buffer) => { if ((record.body ?? '').length < 4096) record.body = (record.body ?? '') + d.toString(); });
    }
    res.once('close', () => { if (!res.writableFinished) out.destroy(); });
    req.pipe(out);
  }

  private relay(up: IncomingMessage, res: ServerResponse, record: RequestRecord, silentFromStart: boolean): void {
    if (res.destroyed) { up.destroy(); return; }
    record.status = up.statusCode ?? 0;
    res.writeHead(record.status, withoutHopByHop(up.headers));
    if (record.verb !== 'watch') {
      up.pipe(res);
      res.once('finish', () => { record.endedAt = Date.now(); });
      return;
    }
    res.flushHeaders();
    const watch: OpenWatch = { path: record.path, silent: silentFromStart };
    this.watches.add(watch);
    up.on('data', (chunk: Buffer) => { if (!watch.silent) res.write(chunk); });
    up.once('end', () => { this.watches.delete(watch); if (!watch.silent) res.end(); });
    up.once('error', () => { this.watches.delete(watch); res.destroy(); });
    res.once('close', () => { this.watches.delete(watch); up.destroy(); });
  }
}

function answer(res: ServerResponse, record: RequestRecord, status: number, retryAfterSeconds?: number): void {
  const body = JSON.stringify({
    kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status,
    reason: status === 429 ? 'TooManyRequests' : status === 503 ? 'ServiceUnavailable' : 'InternalError',
    message: `injected by the fault proxy: HTTP ${status}`,
  });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (retryAfterSeconds !== undefined) { headers['retry-after'] = String(retryAfterSeconds); record.retryAfterSeconds = retryAfterSeconds; }
  record.status = status;
  res.writeHead(status, headers);
  res.end(body);
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);

function withoutHopByHop(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** Verb, resource, namespace and name of a Kubernetes API path. */
export function describeRequest(method: string, path: string, contentType: string): Pick<RequestRecord, 'verb' | 'resource' | 'namespace' | 'name'> {
  const [pathname = '', query = ''] = path.split('?');
  const parts = pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/group/version/...
  let rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : [];
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; rest = rest.slice(2); }
  const [plural = parts.join('/'), name, sub] = rest;
  const resource = sub ? `${plural}/${sub}` : plural;
  const watch = /(^|&)watch=(true|1)/.test(query);
  const verb = method === 'GET' ? (watch ? 'watch' : name ? 'get' : 'list')
    : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'DELETE' ? 'delete'
    : method === 'PATCH' ? (contentType.includes('apply-patch') ? 'apply' : 'patch') : method.toLowerCase();
  return { verb, resource, namespace: namespace ?? (plural === 'namespaces' ? name : undefined), name };
}

function countBy(records: RequestRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) out[`${r.verb} ${r.resource}`] = (out[`${r.verb} ${r.resource}`] ?? 0) + 1;
  return out;
}

/** An EC serving certificate for IP:127.0.0.1, signed by the harness CA (which the operator trusts). */
async function makeServingCert(pkiDir: string, dir: string): Promise<{ cert: Buffer; key: Buffer }> {
  const ext = join(dir, 'ext.cnf');
  await writeFile(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'proxy.key', '-out', 'proxy.csr', '-subj', '/CN=lockstep-fault-proxy');
  await ssl('x509', '-req', '-in', 'proxy.csr', '-CA', join(pkiDir, 'ca.crt'), '-CAkey', join(pkiDir, 'ca.key'),
    '-set_serial', `0x${Date.now().toString(16)}`, '-days', '2', '-extfile', ext, '-out', 'proxy.crt');
  return { cert: readFileSync(join(dir, 'proxy.crt')), key: readFileSync(join(dir, 'proxy.key')) };
}

function kubeconfigFor(server: string, pkiDir: string): string {
  return kubeconfig(server, pkiDir, 'fault-proxy');
}

async function closeServer(server: Server, state: ProxyState, agent: Agent): Promise<void> {
  for (const s of state.sockets) s.destroy();
  await new Promise((ok) => server.close(ok));
  agent.destroy();
}

export interface ObjectEvent {
  type: string;
  at: number;
  name: string;
  resourceVersion: string;
  data?: Record<string, string>;
}

export interface ObjectWatch {
  readonly events: readonly ObjectEvent[];
  stop(): void;
}

/**
 * Watches a collection straight on the apiserver (not through a proxy), recording every event, to
 * check afterwards that no Secret was ever blanked or deleted. Reconnects from the last
 * resourceVersion if the server ends the watch.
 */
export async function watchCollection(server: string, pkiDir: string, collectionPath: string): Promise<ObjectWatch> {
  const read = (f: string) => readFileSync(join(pkiDir, f));
  const tls = { ca: read('ca.crt'), cert: read('admin.crt'), key: read('admin.key') };
  const events: ObjectEvent[] = [];
  let stopped = false;
  let current: ReturnType<typeof httpsRequest> | undefined;
  let rv = '';
  const listed = await new Promise<{ metadata: { resourceVersion: string } }>((ok, fail) => {
    const req = httpsRequest(new URL(collectionPath, server), tls, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => { try { ok(JSON.parse(body)); } catch (e) { fail(e as Error); } });
    });
    req.on('error', fail).end();
  });
  rv = listed.metadata.resourceVersion;
  const open = () => {
    if (stopped) return;
    const url = new URL(`${collectionPath}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`, server);
    current = httpsRequest(url, tls, (res) => {
      let buffer = '';
      res.on('data', (d: Buffer) => {
        buffer += d.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.trim()) record(JSON.parse(line) as { type: string; object: { metadata: { name: string; resourceVersion: string }; data?: Record<string, string> } });
        }
      });
      res.on('end', () => setTimeout(open, 100));
      res.on('error', () => setTimeout(open, 500));
    });
    current.on('error', () => setTimeout(open, 500)).end();
  };
  const record = (e: { type: string; object: { metadata: { name: string; resourceVersion: string }; data?: Record<string, string> } }) => {
    rv = e.object.metadata.resourceVersion || rv;
    if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
    events.push({ type: e.type, at: Date.now(), name: e.object.metadata.name, resourceVersion: rv, data: e.object.data });
  };
  open();
  return { events, stop: () => { stopped = true; current?.destroy(); } };
}
