// The Azure Key Vault test peer: the Key Vault double (keyvault-double.ts) in its own process,
// on a free 127.0.0.1 port, over HTTPS with a test CA prepared by install.sh. Stopped by pid,
// also when the test process exits. State is in memory: a restart empties the vault.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DoubleClient, DoubleConfig } from './keyvault-double.js';
import { freePort, PeerProcess, runInstallScript } from '../peer-support.js';

export type { DoubleClient };

export interface AzurePeerOptions {
  /** Entra applications / identities the double knows, by client ID. */
  clients: Record<string, DoubleClient>;
  tenantId?: string;
  federation?: DoubleConfig['federation'];
  tokenSeconds?: number;
}

export interface AzureFault {
  status: number;
  count: number;
  delayMs?: number;
  /** vault (default): Key Vault requests; authority: every Entra request; token: only token requests. */
  target?: 'vault' | 'authority' | 'token';
}

export interface AzurePeerStats {
  tokenRequests: number;
  imdsRequests: number;
  vaultRequests: number;
  /** Federated assertions whose signature and issuer were checked against the ServiceAccount key. */
  verifiedAssertions: number;
  /** Names of secrets whose value was read, in order. */
  reads: string[];
}

export interface AzurePeer {
  /** https://127.0.0.1:PORT — the vault URL, the authority host and the IMDS host at once. */
  endpoint: string;
  port: number;
  tenantId: string;
  /** PEM of the CA that signed the double's certificate. */
  caPem: string;
  /** The IMDS-style managed identity token endpoint. */
  imdsEndpoint: string;
  logFile: string;
  pid(): number | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** The next `count` requests of `target` answer `status`, after `delayMs`. */
  injectFault(fault: AzureFault): Promise<void>;
  clearFaults(): Promise<void>;
  stats(): Promise<AzurePeerStats>;
  /** Removes a secret with all its versions (Key Vault's delete + purge). */
  purge(name: string): Promise<void>;
}

const repoRoot = join(import.meta.dirname, '../../..');

/** Runs install.sh once per process; resolves with the folder holding ca.pem, server.pem, server.key. */
export function installAzurePeer(): Promise<string> {
  return runInstallScript(import.meta.dirname, 120_000);
}


/** A request to the double's control API, trusting only the test CA. */
function control(endpoint: string, ca: string, method: string, path: string, body?: unknown): Promise<string> {
  return new Promise((ok, fail) => {
    const req = request(`${endpoint}${path}`, { method, ca, timeout: 5000, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 500) >= 400) fail(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
        else ok(text);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', fail);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export async function startAzurePeer(opts: AzurePeerOptions): Promise<AzurePeer> {
  const tls = await installAzurePeer();
  const port = await freePort();
  const endpoint = `https://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-azure-'));
  const logFile = join(dir, 'keyvault-double.log');
  const configFile = join(dir, 'config.json');
  const tenantId = opts.tenantId ?? '00000000-0000-4000-8000-00000000a2e0';
  const caPem = readFileSync(join(tls, 'ca.pem'), 'utf8');
  const config: DoubleConfig = {
    port, tenantId, clients: opts.clients, federation: opts.federation, tokenSeconds: opts.tokenSeconds,
    certFile: join(tls, 'server.pem'), keyFile: join(tls, 'server.key'), signingKey: randomBytes(32).toString('hex'),
  };
  await writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
  const server = new PeerProcess({
    name: 'the Key Vault double',
    command: process.execPath,
    args: ['--import', 'tsx', join(import.meta.dirname, 'keyvault-double-main.ts'), configFile],
    cwd: repoRoot,
    logFile,
    probe: async () => Boolean(await control(endpoint, caPem, 'GET', '/_double/stats')),
    startTimeoutMs: 30_000,
  });
  await server.start();
  return {
    endpoint, port, tenantId, caPem, logFile,
    imdsEndpoint: `${endpoint}/metadata/identity/oauth2/token`,
    pid: () => server.pid(),
    start: () => server.start(),
    stop: () => server.stop(),
    restart: () => server.restart(),
    injectFault: async (fault) => {
      await control(endpoint, caPem, 'POST', '/_double/faults', { target: 'vault', ...fault });
    },
    clearFaults: async () => {
      await control(endpoint, caPem, 'DELETE', '/_double/faults');
    },
    stats: async () => JSON.parse(await control(endpoint, caPem, 'GET', '/_double/stats')) as AzurePeerStats,
    purge: async (name) => {
      await control(endpoint, caPem, 'DELETE', `/_double/secrets/${encodeURIComponent(name)}`);
    },
  };
}
