// moto server, the AWS API emulator, as a test peer: installed from PyPI by install.sh into the
// peer cache, started on a free 127.0.0.1 port, stopped by pid (also when the test process exits).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runInstallScript, sleep } from '../peer-support.js';

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


async function waitReady(endpoint: string, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}); see ${logFile}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms; see ${logFile}`);
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      ok();
    });
    child.kill('SIGTERM');
  });
}

export async function startAwsPeer(opts: AwsPeerOptions = {}): Promise<AwsPeer> {
  const bin = await installMoto();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-moto-'));
  const logFile = join(dir, 'moto.log');
  let child: ChildProcess | undefined;
  // Killed by pid even when a test fails before its teardown.
  process.once('exit', () => child?.kill('SIGKILL'));

  const start = async () => {
    const log = await open(logFile, 'a');
    const env = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none', ...opts.env };
    child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { env, stdio: ['ignore', log.fd, log.fd] });
    await log.close();
    await waitReady(endpoint, child, opts.startTimeoutMs ?? 60_000, logFile);
  };
  const stop = async () => {
    if (child) await killAndWait(child);
  };
  const motoApi = async (path: string, body = '') => {
    const res = await fetch(`${endpoint}/moto-api/${path}`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`moto-api/${path}: ${res.status} ${text}`);
    return text;
  };

  await start();
  return {
    endpoint,
    port,
    logFile,
    pid: () => child?.pid,
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    reset: async () => {
      await motoApi('reset');
    },
    motoApi,
  };
}
