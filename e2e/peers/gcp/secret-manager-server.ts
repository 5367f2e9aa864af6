// THE GCP SECRET MANAGER TEST PEER — written by us, not by Google, and not Google's emulator.
//
// A gRPC server for `google.cloud.secretmanager.v1.SecretManagerService`, built from the real
// protos shipped inside @google-cloud/secret-manager (see secret-manager-proto.ts), so the real
// SDK talks to it over the real wire format. It stands in for the community emulator
// (github.com/blackwell-systems/gcp-secret-manager-emulator), which cannot be installed here (the
// Go module proxy answers 403 for it). Like that emulator it ignores the ListSecrets filter, so
// Lockstep's own label matching is what the tests prove.
//
// Unlike that emulator it authenticates honestly: TLS with a test CA, and every call must carry
// a self-signed JWT of a trusted service account (RS256 signature checked against the account's
// public key, plus iss/sub/scope-or-aud/exp; see service-account-jwt.ts), an access token minted
// by the peer's own STS / IAM Credentials stand-in (federation.ts, on a second HTTPS port, when
// configured), or the fixture's random admin token. Service accounts and federated readers are
// readers (get, list if allowed, access); only the admin may create, update, disable, destroy or delete.
//
// Run as a child process: `node --import tsx secret-manager-server.ts CONFIG.json`, with an IPC
// channel (faults, stats, readiness). State is in memory; the parent re-seeds it after a restart.
// Logs name methods, callers and status codes, never payloads or tokens.
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { grpc } from 'google-gax';
import { Federation } from './federation.js';
import type { Fault, FromPeer, GcpPeerConfig, PeerStats, ToPeer, TrustedServiceAccount } from './peer-protocol.js';
import { ServiceAccountJwtVerifier } from './service-account-jwt.js';
import { loadSecretManagerProto } from './secret-manager-proto.js';
import { SecretManagerState, StatusError } from './secret-manager-state.js';

type Principal = { kind: 'admin' } | { kind: 'serviceAccount'; account: TrustedServiceAccount } | { kind: 'federated'; subject: string };
// The requests are the proto-loader objects of the real request messages.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (request: any) => unknown;
type UnaryCall = grpc.ServerUnaryCall<unknown, unknown>;

const Status = grpc.status;
const UNAUTHENTICATED = 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.';
/** What a service account (a reader: roles/secretmanager.secretAccessor + viewer) may call. */
const READER_METHODS: Record<string, string> = {
  GetSecret: 'secretmanager.secrets.get',
  ListSecrets: 'secretmanager.secrets.list',
  GetSecretVersion: 'secretmanager.versions.get',
  ListSecretVersions: 'secretmanager.versions.list',
  AccessSecretVersion: 'secretmanager.versions.access',
};

const configPath = process.argv[2];
if (!configPath) throw new Error('usage: secret-manager-server.ts CONFIG.json');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as GcpPeerConfig;
const state = new SecretManagerState(config.projectId, config.projectNumber);
const verifier = new ServiceAccountJwtVerifier(config.serviceAccounts);
const adminToken = Buffer.from(config.adminToken);
const accounts = new Map(config.serviceAccounts.map((a) => [a.email, a]));
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const federation = new Federation(
  config.federation ?? { providerAudience: '', issuer: '', jwks: [], allowedAudiences: [], readers: [], impersonation: {} },
  config.tokenKey,
  log,
);
let faults: Fault[] = [];
const freshStats = () => ({ calls: {}, unauthenticated: 0, listFilters: [] });
let stats: Pick<PeerStats, 'calls' | 'unauthenticated' | 'listFilters'> = freshStats();

const send = (message: FromPeer) => process.send?.(message);
const currentStats = (): PeerStats => ({
  ...stats,
  stsExchanges: federation.stats.stsExchanges,
  impersonations: federation.stats.impersonations,
  federationRejected: federation.stats.rejected,
});

const handlers: Record<string, Handler> = {
  ListSecrets: (req: { parent: string; pageSize: number; pageToken: string; filter: string }) => {
    stats.listFilters.push(req.filter);
    return state.listSecrets(req, config.maxPageSize);
  },
  CreateSecret: (req) => state.createSecret(req),
  AddSecretVersion: (req) => state.addSecretVersion(req),
  GetSecret: (req: { name: string }) => state.getSecret(req.name),
  UpdateSecret: (req) => state.updateSecret(req),
  DeleteSecret: (req: { name: string }) => (state.deleteSecret(req.name), {}),
  ListSecretVersions: (req) => state.listSecretVersions(req),
  GetSecretVersion: (req: { name: string }) => state.getSecretVersion(req.name),
  AccessSecretVersion: (req: { name: string }) => state.accessSecretVersion(req.name),
  DisableSecretVersion: (req: { name: string }) => state.setVersionState(req.name, 'DISABLED'),
  EnableSecretVersion: (req: { name: string }) => state.setVersionState(req.name, 'ENABLED'),
  DestroySecretVersion: (req: { name: string }) => state.setVersionState(req.name, 'DESTROYED'),
};

function authenticate(metadata: grpc.Metadata): Principal | StatusError {
  const header = metadata.get('authorization')[0];
  const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (!token) return new StatusError(Status.UNAUTHENTICATED, 'Request is missing required authentication credential.');
  const given = Buffer.from(token);
  if (given.length === adminToken.length && timingSafeEqual(given, adminToken)) return { kind: 'admin' };
  const minted = federation.verifyAccessToken(token, Date.now());
  const impersonated = minted?.kind === 'serviceAccount' ? accounts.get(minted.email) : undefined;
  if (impersonated) return { kind: 'serviceAccount', account: impersonated };
  if (minted?.kind === 'federated') return { kind: 'federated', subject: minted.subject };
  const check = verifier.verify(token, Date.now());
  if (check.ok) return { kind: 'serviceAccount', account: check.account };
  log(`rejected a bearer token: ${check.reason}`);
  return new StatusError(Status.UNAUTHENTICATED, UNAUTHENTICATED);
}

function authorize(method: string, principal: Principal, request: { name?: string; parent?: string }): StatusError | undefined {
  if (principal.kind === 'admin') return undefined;
  const permission = READER_METHODS[method];
  const reader = principal.kind === 'serviceAccount' || (config.federation?.readers.includes(principal.subject) ?? false);
  const canList = principal.kind === 'serviceAccount' ? principal.account.canList !== false : reader;
  const allowed = reader && permission !== undefined && (method !== 'ListSecrets' || canList);
  if (allowed) return undefined;
  const resource = request.name ?? request.parent ?? '';
  return new StatusError(Status.PERMISSION_DENIED, `Permission '${permission ?? `secretmanager.${method}`}' denied for resource '${resource}' (or it may not exist).`);
}

function takeFault(method: string): Fault | undefined {
  const fault = faults.find((f) => !f.methods || f.methods.includes(method));
  if (!fault) return undefined;
  fault.count -= 1;
  if (fault.count <= 0) faults = faults.filter((f) => f !== fault);
  return fault;
}

function waitOrCancel(call: UnaryCall, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    call.once('cancelled', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

async function serve(method: string, handler: Handler, call: UnaryCall, callback: grpc.sendUnaryData<unknown>): Promise<void> {
  const principal = authenticate(call.metadata);
  const who = principal instanceof StatusError ? 'anonymous' : principal.kind === 'admin' ? 'admin' : principal.kind === 'federated' ? principal.subject : principal.account.email;
  const answer = (err: StatusError | undefined, value?: unknown) => {
    log(`${method} ${who} ${err ? Status[err.code] : 'OK'}`);
    if (err) callback({ code: err.code, details: err.details });
    else callback(null, value);
  };
  if (principal instanceof StatusError) {
    stats.unauthenticated += 1;
    return answer(principal);
  }
  stats.calls[method] = (stats.calls[method] ?? 0) + 1;
  const fault = takeFault(method);
  if (fault?.delayMs && !(await waitOrCancel(call, fault.delayMs))) return log(`${method} ${who} cancelled by the caller`);
  if (fault?.code !== undefined) return answer(new StatusError(fault.code, `injected fault ${Status[fault.code]}`));
  const request = call.request as { name?: string; parent?: string };
  const denied = authorize(method, principal, request);
  if (denied) return answer(denied);
  try {
    answer(undefined, handler(request));
  } catch (err) {
    if (err instanceof StatusError) return answer(err);
    log(`${method} failed: ${err instanceof Error ? err.message : String(err)}`);
    answer(new StatusError(Status.INTERNAL, 'Internal error.'));
  }
}

function onMessage(message: ToPeer): void {
  if (message.op === 'fault') faults.push({ ...message.fault });
  else if (message.op === 'clearFaults') faults = [];
  else if (message.op === 'resetStats') stats = freshStats();
  send({ op: 'reply', id: message.id, stats: currentStats() });
}

const server = new grpc.Server();
const implementation: grpc.UntypedServiceImplementation = {};
for (const [method, handler] of Object.entries(handlers)) {
  implementation[method] = (call: UnaryCall, callback: grpc.sendUnaryData<unknown>) => void serve(method, handler, call, callback);
}
server.addService(loadSecretManagerProto().service, implementation);
const cert = readFileSync(config.certFile);
const key = readFileSync(config.keyFile);
const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);

function listenFederation(port: number): Promise<void> {
  const trusted = new Set(accounts.keys());
  const https = createHttpsServer({ cert, key }, (req, res) => federation.handle(req, res, trusted));
  return new Promise((resolve, reject) => {
    https.once('error', reject);
    https.listen(port, '127.0.0.1', () => {
      log(`STS and IAM Credentials stand-in listening on https://127.0.0.1:${port}`);
      resolve();
    });
  });
}

server.bindAsync(`127.0.0.1:${config.port}`, credentials, (err) => {
  if (err) {
    log(`cannot listen on 127.0.0.1:${config.port}: ${err.message}`);
    process.exit(1);
  }
  log(`Secret Manager test peer listening on 127.0.0.1:${config.port} (TLS) for project ${config.projectId} (${config.projectNumber})`);
  const federationReady = config.federation ? listenFederation(config.federation.port) : Promise.resolve();
  federationReady.then(
    () => send({ op: 'ready' }),
    (e: unknown) => {
      log(`cannot serve STS: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
});

process.on('message', (m) => onMessage(m as ToPeer));
const stop = () => {
  server.forceShutdown();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test process is gone (even killed): do not outlive it.
process.on('disconnect', stop);
