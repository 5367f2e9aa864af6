// The four providers as subjects of the provider fault suite: each starts its real server or
// double, puts the fault injection in front of it, writes the store's credentials Secret, seeds a
// few remote secrets, and says how to inject and remove each fault and how to count the calls
// the operator makes. Writes by the fixture (rotations) go straight to the peer, never through
// the faults.
import { createHash, createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { TestCluster } from '../harness/cluster.js';
import { startAwsPeer } from '../peers/aws/aws-peer.js';
import { enforceIam, REGION, READ_ONLY_ACTIONS, type AccessKey } from '../peers/aws/moto-iam.js';
import { startAzurePeer } from '../peers/azure/azure-peer.js';
import { startGcpPeer } from '../peers/gcp/gcp-peer.js';
import { startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import { FaultyHttpsProxy, TlsSwitch, type HttpFault, type TestCertificate } from './provider-proxies.js';

export type FaultName = 'throttling' | 'server error' | 'slow answers' | 'TLS failure' | 'credentials revoked';
export const FAULTS: FaultName[] = ['throttling', 'server error', 'slow answers', 'TLS failure', 'credentials revoked'];

export interface FaultPlan {
  /** What is injected, in words (for the printed table). */
  what: string;
  inject(): Promise<void>;
  clear(): Promise<void>;
  /** The Ready message must match (it says why). */
  message: RegExp;
}

export interface Subject {
  provider: 'aws' | 'vault' | 'gcp' | 'azure';
  storeName: string;
  /** The SecretStore manifest (JSON). */
  store: string;
  /** ExternalSecret name → remote ref it reads (its Secret has one key, `value`). */
  refs: Map<string, Record<string, string>>;
  /** ExternalSecret name → the value its Secret must hold once synced. */
  expected: Map<string, string>;
  /** Every value ever written (none may appear in a condition message). */
  values: string[];
  /** Writes a new value for every key, straight to the peer. */
  rotate(): Promise<void>;
  /** Calls the operator made that reached the peer (or the fault proxy in front of it). */
  calls(): Promise<number>;
  /** TLS connections the operator opened to the store's endpoint. */
  connections(): number;
  faults: Record<FaultName, FaultPlan>;
  close(): Promise<void>;
}

export interface SubjectContext {
  cluster: TestCluster;
  namespace: string;
  rateLimit: { qps: number; burst: number };
  /** The CA the stores trust (caBundle, or NODE_EXTRA_CA_CERTS for AWS) and the proxies' certificate. */
  trusted: TestCertificate;
  /** A certificate from a CA nobody trusts. */
  rogue: TestCertificate;
  keys: number;
}

const HOLD_MS = 60_000;
const fresh = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

function storeManifest(ctx: SubjectContext, name: string, provider: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name, namespace: ctx.namespace },
    spec: { rateLimit: ctx.rateLimit, provider },
  });
}

/** The TLS failure plan shared by every provider: the endpoint starts presenting an untrusted certificate. */
function tlsPlan(tls: TlsSwitch): FaultPlan {
  return {
    what: 'the endpoint presents a certificate from a CA the store does not trust',
    inject: () => Promise.resolve(tls.setRogue(true)),
    clear: () => Promise.resolve(tls.setRogue(false)),
    message: /certificate|self[- ]signed|TLS|SSL|caBundle|verif/i,
  };
}

function proxyPlan(proxy: FaultyHttpsProxy, what: string, fault: HttpFault, message: RegExp): FaultPlan {
  return {
    what,
    inject: () => {
      proxy.fault = fault;
      proxy.dropConnections();
      return Promise.resolve();
    },
    clear: () => Promise.resolve(void (proxy.fault = undefined)),
    message,
  };
}

// ---- AWS Secrets Manager on moto --------------------------------------------------------------

/** RFC 3986 percent-encoding, as SigV4 (and moto, which re-signs the parsed form with botocore) encodes a query body. */
const awsEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * A SigV4-signed IAM query call (moto enforces IAM, so the fixture signs as the admin user). The
 * body is encoded the way AWS canonicalises it: URLSearchParams leaves `*` as it is (the policy's
 * `"Resource": "*"`), moto hashes `%2A`, and the signature did not match (403 SignatureDoesNotMatch).
 */
async function signedIam(endpoint: string, key: AccessKey, params: Record<string, string>): Promise<string> {
  const body = Object.entries({ Version: '2010-05-08', ...params }).map(([k, v]) => `${awsEncode(k)}=${awsEncode(v)}`).join('&');
  const host = new URL(endpoint).host;
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const day = amzDate.slice(0, 8);
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');
  const hmac = (k: Buffer | string, s: string) => createHmac('sha256', k).update(s).digest();
  const contentType = 'application/x-www-form-urlencoded; charset=utf-8';
  const canonical = ['POST', '/', '', `content-type:${contentType}`, `host:${host}`, `x-amz-date:${amzDate}`, '', 'content-type;host;x-amz-date', hash(body)].join('\n');
  const scope = `${day}/${REGION}/iam/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hash(canonical)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, day), REGION), 'iam'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
  const res = await fetch(`${endpoint}/`, {
    method: 'POST', body,
    headers: {
      'content-type': contentType, 'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${key.accessKeyId}/${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=${signature}`,
    },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${params.Action}: ${res.status} ${text}`);
  return text;
}

export async function awsSubject(ctx: SubjectContext): Promise<Subject> {
  const peer = await startAwsPeer({ startTimeoutMs: 600_000 });
  const principals = await enforceIam(peer);
  const admin = new SecretsManagerClient({ region: REGION, endpoint: peer.endpoint, credentials: principals.admin, maxAttempts: 1 });
  const proxy = await FaultyHttpsProxy.start({ upstream: peer.endpoint, cert: ctx.trusted });
  const tls = await TlsSwitch.start(proxy.port, ctx.rogue);
  await ctx.cluster.kubectl(['-n', ctx.namespace, 'create', 'secret', 'generic', 'aws-reader',
    `--from-literal=id=${principals.reader.accessKeyId}`, `--from-literal=secret=${principals.reader.secretAccessKey}`]);
  const refs = new Map<string, Record<string, string>>();
  const expected = new Map<string, string>();
  const values: string[] = [principals.reader.secretAccessKey, principals.admin.secretAccessKey];
  for (let i = 0; i < ctx.keys; i++) {
    const value = fresh(`aws-v0-${i}`);
    await admin.send(new CreateSecretCommand({ Name: `faults/aws-${i}`, SecretString: value }));
    refs.set(`aws-${i}`, { key: `faults/aws-${i}` });
    expected.set(`aws-${i}`, value);
    values.push(value);
  }
  const awsError = (status: number, type: string, message: string, headers: Record<string, string> = {}): HttpFault => ({
    kind: 'respond', status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type, ...headers },
    body: JSON.stringify({ __type: type, message }),
  });
  const userPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: READ_ONLY_ACTIONS, Resource: '*' }] });
  return {
    provider: 'aws',
    storeName: 'aws',
    store: storeManifest(ctx, 'aws', { aws: { region: REGION, endpoint: `https://${tls.endpoint}`, auth: { secretRef: {
      accessKeyIDSecretRef: { name: 'aws-reader', key: 'id' }, secretAccessKeySecretRef: { name: 'aws-reader', key: 'secret' },
    } } } }),
    refs, expected, values,
    async rotate() {
      for (const [name, ref] of refs) {
        const value = fresh(`aws-${name}`);
        await admin.send(new PutSecretValueCommand({ SecretId: ref.key, SecretString: value }));
        expected.set(name, value);
        values.push(value);
      }
    },
    calls: () => Promise.resolve(proxy.requests),
    connections: () => tls.connections,
    faults: {
      'throttling': proxyPlan(proxy, '400 ThrottlingException, Retry-After: 1', awsError(400, 'ThrottlingException', 'Rate exceeded', { 'retry-after': '1' }), /Throttl|Rate exceeded/i),
      'server error': proxyPlan(proxy, '500 InternalServiceError', awsError(500, 'InternalServiceError', 'injected internal failure'), /InternalServiceError|internal|500/i),
      'slow answers': proxyPlan(proxy, 'answers held 60 s', { kind: 'hold', ms: HOLD_MS }, /deadline|time(d)? ?out|abort/i),
      'TLS failure': tlsPlan(tls),
      'credentials revoked': {
        what: "the reader's IAM policy deleted (moto enforces IAM), then put back",
        inject: async () => void (await signedIam(peer.endpoint, principals.admin, { Action: 'DeleteUserPolicy', UserName: 'lockstep-reader', PolicyName: 'lockstep' })),
        clear: async () => void (await signedIam(peer.endpoint, principals.admin, { Action: 'PutUserPolicy', UserName: 'lockstep-reader', PolicyName: 'lockstep', PolicyDocument: userPolicy })),
        message: /AccessDenied|not authori[sz]ed|denied|403|credentials/i,
      },
    },
    async close() {
      admin.destroy();
      await tls.close();
      await proxy.stop();
      await peer.stop();
    },
  };
}

// ---- Vault on OpenBao -------------------------------------------------------------------------

const VAULT_ROLE_ID = 'lockstep-faults-role';
const VAULT_SECRET_ID = 'lockstep-faults-secret-id-0123';

async function seedVault(peer: VaultPeer): Promise<void> {
  await peer.admin('POST', 'sys/auth/approle', { type: 'approle' });
  await peer.admin('PUT', 'sys/policies/acl/lockstep-read', { policy: 'path "secret/data/*" { capabilities = ["read"] }' });
  await peer.admin('POST', 'auth/approle/role/lockstep', { token_policies: ['lockstep-read'], token_ttl: '1h', token_max_ttl: '2h' });
  await peer.admin('POST', 'auth/approle/role/lockstep/role-id', { role_id: VAULT_ROLE_ID });
  await peer.admin('POST', 'auth/approle/role/lockstep/custom-secret-id', { secret_id: VAULT_SECRET_ID });
}

export async function vaultSubject(ctx: SubjectContext): Promise<Subject> {
  const peer = await startVaultPeer({ tls: true, seed: seedVault });
  const proxy = await FaultyHttpsProxy.start({ upstream: peer.endpoint, upstreamCa: peer.caPem(), cert: ctx.trusted });
  const tls = await TlsSwitch.start(proxy.port, ctx.rogue);
  await ctx.cluster.kubectl(['-n', ctx.namespace, 'create', 'secret', 'generic', 'vault-approle', `--from-literal=secret-id=${VAULT_SECRET_ID}`]);
  const refs = new Map<string, Record<string, string>>();
  const expected = new Map<string, string>();
  const values: string[] = [VAULT_SECRET_ID];
  const write = async (name: string, key: string) => {
    const value = fresh(`vault-${name}`);
    await peer.admin('POST', `secret/data/${key}`, { data: { value } });
    expected.set(name, value);
    values.push(value);
  };
  for (let i = 0; i < ctx.keys; i++) {
    refs.set(`vault-${i}`, { key: `faults/vault-${i}`, property: 'value' });
    await write(`vault-${i}`, `faults/vault-${i}`);
  }
  const vaultError = (status: number, message: string, headers: Record<string, string> = {}): HttpFault => ({
    kind: 'respond', status, headers, body: JSON.stringify({ errors: [message] }),
  });
  return {
    provider: 'vault',
    storeName: 'vault',
    store: storeManifest(ctx, 'vault', { vault: {
      server: `https://${tls.endpoint}`, path: 'secret', version: 'v2', caBundle: Buffer.from(ctx.trusted.caPem).toString('base64'),
      auth: { appRole: { roleId: VAULT_ROLE_ID, secretRef: { name: 'vault-approle', key: 'secret-id' } } },
    } }),
    refs, expected, values,
    async rotate() {
      for (const [name, ref] of refs) await write(name, ref.key as string);
    },
    calls: () => Promise.resolve(proxy.requests),
    connections: () => tls.connections,
    faults: {
      'throttling': proxyPlan(proxy, '429 rate limit quota exceeded, Retry-After: 1', vaultError(429, 'request path "secret/data/faults": rate limit quota exceeded', { 'retry-after': '1' }), /429|rate limit|throttl/i),
      'server error': proxyPlan(proxy, '503 (a standby or sealed Vault)', vaultError(503, 'Vault is sealed'), /503|sealed|unavailable/i),
      'slow answers': proxyPlan(proxy, 'answers held 60 s', { kind: 'hold', ms: HOLD_MS }, /deadline|time(d)? ?out|abort/i),
      'TLS failure': tlsPlan(tls),
      'credentials revoked': {
        what: 'every AppRole token revoked (sys/leases/revoke-prefix) and the SecretID destroyed, then a SecretID issued again',
        inject: async () => {
          await peer.admin('POST', 'auth/approle/role/lockstep/secret-id/destroy', { secret_id: VAULT_SECRET_ID });
          await peer.admin('POST', 'sys/leases/revoke-prefix/auth/approle/login', {});
        },
        // OpenBao may still hold the destroyed SecretID ("already registered"): then it is usable again as it is.
        clear: async () => void (await peer.admin('POST', 'auth/approle/role/lockstep/custom-secret-id', { secret_id: VAULT_SECRET_ID })
          .catch((err: unknown) => (String(err).includes('already registered') ? undefined : Promise.reject(err)))),
        // The cause itself: a login that merely timed out (behind the store's rateLimit) does not say why.
        message: /invalid (role or )?secret ID|permission denied/i,
      },
    },
    async close() {
      await tls.close();
      await proxy.stop();
      await peer.stop();
    },
  };
}

// ---- GCP Secret Manager on our peer -----------------------------------------------------------

const GCP_PROJECT = 'lockstep-faults';
const GRPC = { RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, UNAUTHENTICATED: 16 };
const READS = ['AccessSecretVersion'];

export async function gcpSubject(ctx: SubjectContext): Promise<Subject> {
  const email = `lockstep-faults@${GCP_PROJECT}.iam.gserviceaccount.com`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyJson = JSON.stringify({
    type: 'service_account', project_id: GCP_PROJECT, private_key_id: 'faults-key-1', client_email: email, client_id: '100000000000000000077',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }), token_uri: 'https://oauth2.googleapis.com/token', universe_domain: 'googleapis.com',
  });
  const peer = await startGcpPeer({
    projectId: GCP_PROJECT,
    serviceAccounts: [{ email, keyId: 'faults-key-1', canList: true, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string }],
  });
  const tls = await TlsSwitch.start(peer.port, ctx.rogue);
  await ctx.cluster.kubectl(['-n', ctx.namespace, 'create', 'secret', 'generic', 'gcp-reader', `--from-literal=key.json=${keyJson}`]);
  const refs = new Map<string, Record<string, string>>();
  const expected = new Map<string, string>();
  const values: string[] = [];
  const write = async (name: string, id: string) => {
    const value = fresh(`gcp-${name}`);
    await peer.admin.put(id, value);
    expected.set(name, value);
    values.push(value);
  };
  for (let i = 0; i < ctx.keys; i++) {
    refs.set(`gcp-${i}`, { key: `faults-gcp-${i}` });
    await write(`gcp-${i}`, `faults-gcp-${i}`);
  }
  const operatorCalls = async () => {
    const stats = await peer.stats();
    // The fixture's own calls are admin calls of other methods (GetSecret, CreateSecret, AddSecretVersion).
    return Object.entries(stats.calls).filter(([m]) => m === 'AccessSecretVersion' || m === 'ListSecrets').reduce((s, [, n]) => s + n, 0) + stats.unauthenticated;
  };
  const grpcPlan = (what: string, fault: { code?: number; delayMs?: number }, message: RegExp): FaultPlan => ({
    what,
    inject: () => peer.injectFault({ methods: READS, count: 1_000_000, ...fault }),
    clear: () => peer.clearFaults(),
    message,
  });
  return {
    provider: 'gcp',
    storeName: 'gcp',
    store: storeManifest(ctx, 'gcp', { gcp: {
      projectID: GCP_PROJECT, endpoint: tls.endpoint, caBundle: peer.caPem,
      auth: { secretRef: { secretAccessKeySecretRef: { name: 'gcp-reader', key: 'key.json' } } },
    } }),
    refs, expected, values,
    async rotate() {
      for (const [name, ref] of refs) await write(name, ref.key as string);
    },
    calls: operatorCalls,
    connections: () => tls.connections,
    faults: {
      'throttling': grpcPlan('RESOURCE_EXHAUSTED (our peer cannot attach google.rpc.RetryInfo)', { code: GRPC.RESOURCE_EXHAUSTED }, /RESOURCE_EXHAUSTED|quota|throttl/i),
      'server error': grpcPlan('UNAVAILABLE', { code: GRPC.UNAVAILABLE }, /UNAVAILABLE/i),
      'slow answers': grpcPlan('answers held 60 s', { delayMs: HOLD_MS }, /deadline|DEADLINE_EXCEEDED|CANCELLED|time(d)? ?out/i),
      'TLS failure': tlsPlan(tls),
      'credentials revoked': grpcPlan('UNAUTHENTICATED on every read (the peer cannot revoke a key at run time)', { code: GRPC.UNAUTHENTICATED }, /UNAUTHENTICATED|credential|auth/i),
    },
    async close() {
      await tls.close();
      await peer.stop();
    },
  };
}

// ---- Azure Key Vault on our double ------------------------------------------------------------

export async function azureSubject(ctx: SubjectContext): Promise<Subject> {
  const ids = { admin: 'f0000000-0000-4000-8000-000000000001', reader: 'f0000000-0000-4000-8000-000000000002' };
  const secrets = { admin: fresh('admin'), reader: fresh('reader') };
  const peer = await startAzurePeer({
    clients: {
      [ids.admin]: { secret: secrets.admin, permissions: ['get', 'list', 'set'] },
      [ids.reader]: { secret: secrets.reader, permissions: ['get', 'list'] },
    },
  });
  const tls = await TlsSwitch.start(peer.port, ctx.rogue);
  const tlsOptions = { ca: [...rootCertificates, peer.caPem] };
  const credential = new ClientSecretCredential(peer.tenantId, ids.admin, secrets.admin, { authorityHost: peer.endpoint, disableInstanceDiscovery: true, tlsOptions });
  const admin = new SecretClient(peer.endpoint, credential, { serviceVersion: '7.5', disableChallengeResourceVerification: true, tlsOptions, retryOptions: { maxRetries: 0 } });
  await ctx.cluster.kubectl(['-n', ctx.namespace, 'create', 'secret', 'generic', 'azure-reader',
    `--from-literal=client-id=${ids.reader}`, `--from-literal=client-secret=${secrets.reader}`]);
  const refs = new Map<string, Record<string, string>>();
  const expected = new Map<string, string>();
  const values: string[] = [secrets.admin, secrets.reader];
  const write = async (name: string, key: string) => {
    const value = fresh(`azure-${name}`);
    await admin.setSecret(key, value, { abortSignal: AbortSignal.timeout(15_000) });
    expected.set(name, value);
    values.push(value);
  };
  for (let i = 0; i < ctx.keys; i++) {
    refs.set(`azure-${i}`, { key: `faults-azure-${i}` });
    await write(`azure-${i}`, `faults-azure-${i}`);
  }
  const stats = async () => {
    const s = await peer.stats();
    return s.vaultRequests + s.tokenRequests;
  };
  const doublePlan = (what: string, fault: { status: number; delayMs?: number }, message: RegExp): FaultPlan => ({
    what,
    inject: () => peer.injectFault({ count: 1_000_000, ...fault }),
    clear: () => peer.clearFaults(),
    message,
  });
  return {
    provider: 'azure',
    storeName: 'azure',
    // The authority is reached directly: MSAL checks that the issuer its OpenID configuration
    // names is the authority host, and the double names its own port.
    store: storeManifest(ctx, 'azure', { azure: {
      vaultUrl: `https://${tls.endpoint}`, tenantId: peer.tenantId, authorityHost: peer.endpoint, caBundle: peer.caPem,
      disableChallengeResourceVerification: true,
      auth: { servicePrincipal: { clientIdSecretRef: { name: 'azure-reader', key: 'client-id' }, clientSecretSecretRef: { name: 'azure-reader', key: 'client-secret' } } },
    } }),
    refs, expected, values,
    // Rotations happen outside the counted fault windows, so the double's totals are the operator's calls there.
    async rotate() {
      for (const [name, ref] of refs) await write(name, ref.key as string);
    },
    calls: stats,
    connections: () => tls.connections,
    faults: {
      'throttling': doublePlan('429 Throttled, Retry-After: 0 (the double\'s fixed hint)', { status: 429 }, /429|Throttl|too many/i),
      'server error': doublePlan('503', { status: 503 }, /503|unavailable|InternalServerError/i),
      'slow answers': doublePlan('answers held 60 s', { status: 503, delayMs: HOLD_MS }, /deadline|time(d)? ?out|abort/i),
      'TLS failure': tlsPlan(tls),
      'credentials revoked': doublePlan('401 Unauthorized on every request (the double cannot revoke a client secret at run time)', { status: 401 }, /401|unauthori[sz]ed|auth/i),
    },
    async close() {
      await tls.close();
      await peer.stop();
    },
  };
}
