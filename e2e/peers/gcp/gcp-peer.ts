// The GCP Secret Manager test peer: OUR gRPC server for the real `google.cloud.secretmanager.v1`
// API (secret-manager-server.ts; not Google's, not the community emulator, which the Go module
// proxy will not serve here) in its own Node process, on a free 127.0.0.1 port, over TLS with a
// CA made by openssl for this run. Stopped by pid, also when the test process exits.
//
// With `federation`, the same process also serves our STS and IAM Credentials stand-ins over
// HTTPS on a second loopback port (federation.ts), for workload identity tests.
//
// The fixture's admin client (creating, changing and disabling secrets) speaks the same protos
// with a random admin token. Every change it makes is journaled and replayed after a restart, so
// an outage test does not lose the data other tests rely on.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { grpc } from 'google-gax';
import type { Command, FederationConfig, Fault, FromPeer, GcpPeerConfig, PeerStats, TrustedServiceAccount } from './peer-protocol.js';
import { loadSecretManagerProto } from './secret-manager-proto.js';
import { freePort, PeerProcess } from '../peer-support.js';

export type { FederationConfig, Fault, PeerStats, TrustedServiceAccount };

export interface GcpPeerOptions {
  serviceAccounts: TrustedServiceAccount[];
  projectId?: string;
  projectNumber?: string;
  /** The most secrets one ListSecrets page holds (default 25000, Google's cap). */
  maxPageSize?: number;
  /** Also serve STS and IAM Credentials stand-ins for workload identity. */
  federation?: FederationConfig;
  startTimeoutMs?: number;
}

export interface GcpPeer {
  /** 127.0.0.1:PORT, the provider's `endpoint`. */
  endpoint: string;
  port: number;
  /** PEM of the CA that signed the server certificate (SANs 127.0.0.1 and localhost). */
  caPem: string;
  projectId: string;
  projectNumber: string;
  /** With `federation`: https://127.0.0.1:PORT/v1/token and https://127.0.0.1:PORT. */
  stsEndpoint?: string;
  iamCredentialsEndpoint?: string;
  logFile: string;
  admin: SecretManagerAdmin;
  pid(): number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL), by pid. Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port and replays the admin journal. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** The next `count` matching calls are delayed and/or fail with a status (in effect when this resolves). */
  injectFault(fault: Fault): Promise<void>;
  clearFaults(): Promise<void>;
  stats(): Promise<PeerStats>;
  resetStats(): Promise<void>;
}

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '../../..');
const ADMIN_DEADLINE_MS = 10_000;

/** A test CA and a serving certificate for 127.0.0.1 and localhost, made with openssl in `dir`. */
async function makeTls(dir: string): Promise<{ caPem: string; certFile: string; keyFile: string }> {
  const ssl = (args: string[]) => run('openssl', args, { cwd: dir, timeout: 30_000 });
  await ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=lockstep gcp test CA',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  await ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
  return { caPem: await readFile(join(dir, 'ca.pem'), 'utf8'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
}

/** The fixture's side of the API: a gRPC client of the peer with the admin token; every change journaled. */
export class SecretManagerAdmin {
  private client?: grpc.Client;
  private readonly journal: { method: string; request: object }[] = [];

  constructor(
    private readonly endpoint: string,
    private readonly caPem: string,
    private readonly adminToken: string,
    private readonly projectId: string,
  ) {}

  private connect(): grpc.Client {
    const token = this.adminToken;
    const callCredentials = grpc.credentials.createFromMetadataGenerator((_params, done) => {
      const metadata = new grpc.Metadata();
      metadata.add('authorization', `Bearer ${token}`);
      done(null, metadata);
    });
    const credentials = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(this.caPem)), callCredentials);
    return new (loadSecretManagerProto().Client)(this.endpoint, credentials);
  }

  /** Drops the channel (after a restart a fresh one connects at once, without reconnect backoff). */
  reset(): void {
    this.client?.close();
    this.client = undefined;
  }

  call<T>(method: string, request: object): Promise<T> {
    this.client ??= this.connect();
    const client = this.client as unknown as Record<string, (req: object, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: T) => void) => void>;
    return new Promise((ok, fail) => {
      client[method]?.(request, { deadline: Date.now() + ADMIN_DEADLINE_MS }, (err, res) => (err ? fail(err) : ok(res)));
    });
  }

  private async change<T>(method: string, request: object): Promise<T> {
    const result = await this.call<T>(method, request);
    this.journal.push({ method, request });
    return result;
  }

  async replay(): Promise<void> {
    for (const { method, request } of this.journal) await this.call(method, request);
  }

  secretName(id: string): string {
    return `projects/${this.projectId}/secrets/${id}`;
  }

  createSecret(id: string, labels: Record<string, string> = {}): Promise<unknown> {
    return this.change('CreateSecret', { parent: `projects/${this.projectId}`, secretId: id, secret: { labels, replication: { automatic: {} } } });
  }

  /** Adds a version; resolves with its number as a string. */
  async addVersion(id: string, value: string | Uint8Array): Promise<string> {
    const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    const version = await this.change<{ name: string }>('AddSecretVersion', { parent: this.secretName(id), payload: { data } });
    return version.name.slice(version.name.lastIndexOf('/') + 1);
  }

  setLabels(id: string, labels: Record<string, string>): Promise<unknown> {
    return this.change('UpdateSecret', { secret: { name: this.secretName(id), labels }, updateMask: { paths: ['labels'] } });
  }

  setAnnotations(id: string, annotations: Record<string, string>): Promise<unknown> {
    return this.change('UpdateSecret', { secret: { name: this.secretName(id), annotations }, updateMask: { paths: ['annotations'] } });
  }

  setAliases(id: string, aliases: Record<string, string>): Promise<unknown> {
    return this.change('UpdateSecret', { secret: { name: this.secretName(id), versionAliases: aliases }, updateMask: { paths: ['version_aliases'] } });
  }

  /** Creates the secret when missing (labels set either way), then adds a version; resolves with its number. */
  async put(id: string, value: string | Uint8Array, labels?: Record<string, string>): Promise<string> {
    const exists = await this.call('GetSecret', { name: this.secretName(id) }).then(
      () => true,
      (err: grpc.ServiceError) => (err.code === grpc.status.NOT_FOUND ? false : Promise.reject(err)),
    );
    if (!exists) await this.createSecret(id, labels);
    else if (labels) await this.setLabels(id, labels);
    return this.addVersion(id, value);
  }

  disableVersion(id: string, version: string): Promise<unknown> {
    return this.change('DisableSecretVersion', { name: `${this.secretName(id)}/versions/${version}` });
  }

  enableVersion(id: string, version: string): Promise<unknown> {
    return this.change('EnableSecretVersion', { name: `${this.secretName(id)}/versions/${version}` });
  }

  destroyVersion(id: string, version: string): Promise<unknown> {
    return this.change('DestroySecretVersion', { name: `${this.secretName(id)}/versions/${version}` });
  }

  deleteSecret(id: string): Promise<unknown> {
    return this.change('DeleteSecret', { name: this.secretName(id) });
  }
}

export async function startGcpPeer(opts: GcpPeerOptions): Promise<GcpPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-gcp-'));
  const port = await freePort();
  const endpoint = `127.0.0.1:${port}`;
  const tls = await makeTls(dir);
  const logFile = join(dir, 'secret-manager.log');
  const configFile = join(dir, 'config.json');
  const config: GcpPeerConfig = {
    port,
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    projectId: opts.projectId ?? 'lockstep-e2e',
    projectNumber: opts.projectNumber ?? '123456789012',
    serviceAccounts: opts.serviceAccounts,
    adminToken: randomBytes(24).toString('base64url'),
    maxPageSize: opts.maxPageSize ?? 25_000,
    tokenKey: randomBytes(32).toString('hex'),
    federation: opts.federation ? { ...opts.federation, port: await freePort() } : undefined,
  };
  const federationBase = config.federation ? `https://127.0.0.1:${config.federation.port}` : undefined;
  await writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
  const admin = new SecretManagerAdmin(endpoint, tls.caPem, config.adminToken, config.projectId);
  let nextId = 0;
  let ready = false;
  const server = new PeerProcess({
    name: 'the Secret Manager test peer',
    command: process.execPath,
    args: ['--import', 'tsx', join(import.meta.dirname, 'secret-manager-server.ts'), configFile],
    cwd: repoRoot,
    logFile,
    ipc: true,
    // The peer says when it listens, over the IPC channel.
    onSpawn: (child) => {
      ready = false;
      child.on('message', (m: FromPeer) => {
        if (m.op === 'ready') ready = true;
      });
    },
    probe: () => Promise.resolve(ready),
    startTimeoutMs: opts.startTimeoutMs ?? 30_000,
    pollMs: 20,
  });
  /** Sends a command over the IPC channel; resolves once the peer applied it. */
  const command = (message: Command) =>
    new Promise<PeerStats>((ok, fail) => {
      const id = ++nextId;
      const current = server.process;
      if (!current?.connected) return fail(new Error('the Secret Manager test peer is not running'));
      const onMessage = (m: FromPeer) => {
        if (m.op !== 'reply' || m.id !== id) return;
        current.off('message', onMessage);
        ok(m.stats);
      };
      current.on('message', onMessage);
      current.send({ ...message, id });
    });

  const start = async () => {
    await server.start();
    admin.reset();
    await admin.replay();
  };
  const stop = async () => {
    await server.stop();
    admin.reset();
  };
  await start();
  return {
    endpoint, port, caPem: tls.caPem, projectId: config.projectId, projectNumber: config.projectNumber, logFile, admin,
    stsEndpoint: federationBase && `${federationBase}/v1/token`,
    iamCredentialsEndpoint: federationBase,
    pid: () => server.pid(),
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    injectFault: async (fault) => void (await command({ op: 'fault', fault })),
    clearFaults: async () => void (await command({ op: 'clearFaults' })),
    stats: () => command({ op: 'stats' }),
    resetStats: async () => void (await command({ op: 'resetStats' })),
  };
}
