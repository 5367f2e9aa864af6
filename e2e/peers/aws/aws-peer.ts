// moto server, the AWS API emulator, as a test peer: installed from PyPI by install.sh into the
// peer cache, started on a free 127.0.0.1 port, stopped by pid (also when the test process exits).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, PeerProcess, runInstallScript } from '../peer-support.js';

export interface AwsPeerOptions {
  /** Extra environment for moto (e.g. INITIAL_NO_AUTH_ACTION_COUNT). */
  env?: Record<string, string>;
  /** Milliseconds to wait for readiness (default 60 s: a first run installs moto). */
  startTimeoutMs?: number;
}

export interface AwsPeer {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  logFile: string;
  pid(): number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL), by pid. Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port (all state is lost: moto keeps everything in memory). */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** POST /moto-api/reset: drops every resource. */
  reset(): Promise<void>;
  /** POSTs to a /moto-api/ path (seed, reset-auth, ...). */
  motoApi(path: string, body?: string): Promise<string>;
}


/** Runs install.sh once per process; resolves with the moto_server path. */
export function installMoto(): Promise<string> {
  return runInstallScript(import.meta.dirname, 600_000);
}


export async function startAwsPeer(opts: AwsPeerOptions = {}): Promise<AwsPeer> {
  const bin = await installMoto();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-moto-'));
  const logFile = join(dir, 'moto.log');
  const server = new PeerProcess({
    name: 'moto_server',
    command: bin,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none', ...opts.env },
    logFile,
    probe: async () => (await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) })).ok,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    pollMs: 100,
  });
  const motoApi = async (path: string, body = '') => {
    const res = await fetch(`${endpoint}/moto-api/${path}`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`moto-api/${path}: ${res.status} ${text}`);
    return text;
  };

  await server.start();
  return {
    endpoint,
    port,
    logFile,
    pid: () => server.pid(),
    start: () => server.start(),
    stop: () => server.stop(),
    restart: () => server.restart(),
    reset: async () => {
      await motoApi('reset');
    },
    motoApi,
  };
}
