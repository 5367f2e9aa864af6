// The azure provider against the Key Vault double (Key Vault secrets API, Microsoft Entra token
// endpoint and IMDS endpoint over HTTPS, credentials and permissions enforced) and the real local
// kube-apiserver (credentials Secrets, ServiceAccount tokens from TokenRequest, whose signature
// the double checks against the apiserver's ServiceAccount key).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { AzureProviderSpec } from '../../src/api/providers/azure.js';
import { buildCredentialSource } from '../../src/controllers/credential-source.js';
import { createKubeClient, type KubeClientHandle } from '../../src/kube/kube-client.js';
import { buildLogger } from '../../src/observability/logger.js';
import { REDACTED, SecretScrubber } from '../../src/observability/secret-scrubber.js';
import { azureProvider } from '../../src/providers/azure/azure-provider.js';
import type { CredentialSource, RequestBudget, SecretsClient, StoreContext } from '../../src/providers/provider.js';
import {
  AuthError,
  InvalidConfigError,
  InvalidRefError,
  SecretNotFoundError,
  ThrottledError,
  UnavailableError,
} from '../../src/providers/provider-errors.js';
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { type AzurePeer, startAzurePeer } from '../peers/azure/azure-peer.js';
import { runContractSuite } from './contract-suite.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const signal = () => AbortSignal.timeout(15_000);
const run = randomBytes(3).toString('hex');
const SA = 'lockstep-azure';
const OTHER_SA = 'lockstep-azure-other';
const ids = {
  admin: 'a0000000-0000-4000-8000-000000000001',
  reader: 'a0000000-0000-4000-8000-000000000002',
  noAccess: 'a0000000-0000-4000-8000-000000000003',
  workload: 'a0000000-0000-4000-8000-000000000004',
  managed: 'a0000000-0000-4000-8000-000000000005',
};
const secrets = { admin: `admin-${randomBytes(12).toString('hex')}`, reader: `reader-${randomBytes(12).toString('hex')}`, noAccess: `none-${randomBytes(12).toString('hex')}` };

let peer: AzurePeer;
let cluster: TestCluster;
let kube: KubeClientHandle;
let namespace: string;
let admin: SecretClient;
const scrubber = new SecretScrubber();
const log = buildLogger({ level: 'silent', scrubber });
const tokens: { token: string; audiences?: string[] }[] = [];

async function createCredentialsSecret(name: string, clientId: string, clientSecret: string): Promise<void> {
  await cluster.kubectl(['-n', namespace, 'create', 'secret', 'generic', name, `--from-literal=client-id=${clientId}`, `--from-literal=client-secret=${clientSecret}`]);
}

function recordingCredentials(source: CredentialSource): CredentialSource {
  return {
    readSecretKey: (ref) => source.readSecretKey(ref),
    requestServiceAccountToken: async (ref) => {
      const issued = await source.requestServiceAccountToken(ref);
      tokens.push({ token: issued.token, audiences: ref.audiences });
      return issued;
    },
  };
}

function storeContext(storeName: string, budget?: RequestBudget): StoreContext {
  const store = { kind: 'SecretStore' as const, name: storeName, namespace, uid: `uid-${storeName}`, generation: 1 };
  return { namespace, storeKind: 'SecretStore', storeName, log, scrubber, credentials: recordingCredentials(buildCredentialSource(kube.client, scrubber, store)), budget };
}

function spec(auth: Record<string, unknown>, extra: Record<string, unknown> = {}): AzureProviderSpec {
  return AzureProviderSpec.parse({
    vaultUrl: peer.endpoint,
    tenantId: peer.tenantId,
    authorityHost: peer.endpoint,
    caBundle: peer.caPem,
    disableChallengeResourceVerification: true,
    auth,
    ...extra,
  });
}

const servicePrincipal = (secret: string) => ({
  servicePrincipal: { clientIdSecretRef: { name: secret, key: 'client-id' }, clientSecretSecretRef: { name: secret, key: 'client-secret' } },
});

async function connect(config: AzureProviderSpec, storeName = 'azure', budget?: RequestBudget): Promise<SecretsClient> {
  expect(azureProvider.validateConfig(config)).toEqual([]);
  return azureProvider.connect(config, storeContext(storeName, budget));
}

async function put(key: string, value: string, tags?: Record<string, string>): Promise<string> {
  const secret = await admin.setSecret(key, value, { tags, abortSignal: signal() });
  return secret.properties.version ?? '';
}

beforeAll(async () => {
  cluster = loadTestCluster();
  kube = createKubeClient({ kubeconfigPath: cluster.kubeconfigPath, fieldManager: 'lockstep', userAgent: 'lockstep-e2e', reportingInstance: 'e2e' });
  namespace = await cluster.createNamespace('azure');
  const started = Date.now();
  peer = await startAzurePeer({
    clients: {
      [ids.admin]: { secret: secrets.admin, permissions: ['get', 'list', 'set'] },
      [ids.reader]: { secret: secrets.reader, permissions: ['get', 'list'] },
      [ids.noAccess]: { secret: secrets.noAccess, permissions: [] },
      [ids.workload]: { federatedSubject: `system:serviceaccount:${namespace}:${SA}`, permissions: ['get', 'list'] },
      [ids.managed]: { managedIdentity: true, permissions: ['get'] },
    },
    // Federated assertions are checked against the apiserver's ServiceAccount signing key.
    federation: cluster.dir ? { issuer: 'https://kubernetes.default.svc', publicKeyFile: join(cluster.dir, 'pki', 'sa.pub') } : undefined,
  });
  console.log(`Key Vault double ${peer.endpoint} ready in ${Date.now() - started} ms (log: ${peer.logFile})`);
  const tlsOptions = { ca: [...rootCertificates, peer.caPem] };
  const adminCredential = new ClientSecretCredential(peer.tenantId, ids.admin, secrets.admin, { authorityHost: peer.endpoint, disableInstanceDiscovery: true, tlsOptions });
  admin = new SecretClient(peer.endpoint, adminCredential, { serviceVersion: '7.5', disableChallengeResourceVerification: true, tlsOptions });
  await createCredentialsSecret('azure-reader', ids.reader, secrets.reader);
  await createCredentialsSecret('azure-wrong-secret', ids.reader, 'not-the-client-secret');
  await createCredentialsSecret('azure-no-access', ids.noAccess, secrets.noAccess);
  await cluster.kubectl(['-n', namespace, 'create', 'serviceaccount', SA]);
  await cluster.kubectl(['-n', namespace, 'create', 'serviceaccount', OTHER_SA]);
});

afterAll(async () => {
  await peer?.stop();
  if (namespace) await cluster.deleteNamespace(namespace);
  await kube?.close();
});

runContractSuite(
  'azure',
  async () => ({
    client: await connect(spec(servicePrincipal('azure-reader'))),
    connectWithWrongCredentials: () => connect(spec(servicePrincipal('azure-wrong-secret')), 'azure-wrong'),
    connectWithBudget: (budget) => connect(spec(servicePrincipal('azure-reader')), 'azure-budgeted', budget),
    put,
    stopServer: () => peer.stop(),
    startServer: () => peer.start(),
    supportsTags: true,
    separator: '-',
  }),
  () => Promise.resolve(),
);

describe('azure provider against the Key Vault double', () => {
  let client: SecretsClient;
  const key = (name: string) => `lockstep-${run}-az-${name}`;

  beforeAll(async () => {
    client = await connect(spec(servicePrincipal('azure-reader')), 'azure-specific');
  });

  afterEach(async () => {
    await peer.clearFaults();
  });

  it('reads tags with metadataPolicy Fetch: the version read, as JSON, one tag with property, every tag with extract', async () => {
    const v1 = await put(key('tagged'), 'the-value-not-the-tags', { team: 'a', owner: 'payments' });
    await put(key('tagged'), 'second-value', { team: 'b' });
    const fetch = (extra: object = {}) => ({ key: key('tagged'), metadataPolicy: 'Fetch' as const, ...extra });
    expect(JSON.parse(dec(await client.getSecret(fetch(), { signal: signal() })))).toEqual({ team: 'b' });
    expect(JSON.parse(dec(await client.getSecret(fetch({ version: v1 }), { signal: signal() })))).toEqual({ owner: 'payments', team: 'a' });
    expect(dec(await client.getSecret(fetch({ version: v1, property: 'owner' }), { signal: signal() }))).toBe('payments');
    const map = await client.getSecretMap(fetch({ version: v1 }), { signal: signal() });
    expect(Object.fromEntries([...map].map(([k, v]) => [k, dec(v)]))).toEqual({ team: 'a', owner: 'payments' });
    expect(dec(await client.getSecret({ key: key('tagged') }, { signal: signal() }))).toBe('second-value');
    await expect(client.getSecret(fetch({ property: 'owner' }), { signal: signal() })).rejects.toThrow(
      `metadata 'owner' does not exist on remote key '${key('tagged')}' (its metadata keys are 'team')`,
    );
    await expect(client.getSecret({ key: key('absent'), metadataPolicy: 'Fetch' }, { signal: signal() })).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('authenticates with workload identity: a ServiceAccount token for api://AzureADTokenExchange', async () => {
    await put(key('wi'), 'workload-identity-value');
    const verified = (await peer.stats()).verifiedAssertions;
    const wi = await connect(spec({ workloadIdentity: { serviceAccountRef: { name: SA }, clientId: ids.workload } }), 'azure-wi');
    expect(dec(await wi.getSecret({ key: key('wi') }, { signal: signal() }))).toBe('workload-identity-value');
    const last = tokens.at(-1);
    expect(last?.audiences).toEqual(['api://AzureADTokenExchange']);
    const claims = JSON.parse(Buffer.from(last?.token.split('.')[1] ?? '', 'base64url').toString()) as { aud: string[]; sub: string };
    expect(claims.aud).toEqual(['api://AzureADTokenExchange']);
    expect(claims.sub).toBe(`system:serviceaccount:${namespace}:${SA}`);
    expect(scrubber.scrub(`token ${last?.token}`)).toBe(`token ${REDACTED}`);
    if (cluster.dir) expect((await peer.stats()).verifiedAssertions - verified).toBe(1);
  });

  it('rejects a ServiceAccount that has no federated credential as an auth error', async () => {
    const other = await connect(spec({ workloadIdentity: { serviceAccountRef: { name: OTHER_SA }, clientId: ids.workload } }), 'azure-wi-other');
    await expect(other.getSecret({ key: key('wi') }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });

  it('reports a missing ServiceAccount as invalid config, not as an auth error', async () => {
    const missing = await connect(spec({ workloadIdentity: { serviceAccountRef: { name: 'no-such-sa' }, clientId: ids.workload } }), 'azure-wi-missing');
    const err = await missing.getSecret({ key: key('wi') }, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(String(err)).toContain('no-such-sa');
  });

  it('authenticates with a managed identity at an explicit IMDS-style endpoint', async () => {
    await put(key('mi'), 'managed-identity-value');
    const before = (await peer.stats()).imdsRequests;
    const mi = await connect(spec({ managedIdentity: { clientId: ids.managed, endpoint: peer.imdsEndpoint } }), 'azure-mi');
    expect(dec(await mi.getSecret({ key: key('mi') }, { signal: signal() }))).toBe('managed-identity-value');
    expect(dec(await mi.getSecret({ key: key('mi') }, { signal: signal() }))).toBe('managed-identity-value');
    expect((await peer.stats()).imdsRequests - before).toBe(1);
    const unknown = await connect(spec({ managedIdentity: { clientId: 'a0000000-0000-4000-8000-0000000000ff', endpoint: peer.imdsEndpoint } }), 'azure-mi-unknown');
    await expect(unknown.getSecret({ key: key('mi') }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });

  it('gets one Entra token per client and reuses it for every call', async () => {
    await put(key('reuse'), 'reuse-value');
    const before = (await peer.stats()).tokenRequests;
    const fresh = await connect(spec(servicePrincipal('azure-reader')), 'azure-reuse');
    for (let i = 0; i < 5; i++) expect(dec(await fresh.getSecret({ key: key('reuse') }, { signal: signal() }))).toBe('reuse-value');
    await fresh.findSecrets({ name: { regexp: `^${key('reuse')}$` } }, { signal: signal() });
    expect((await peer.stats()).tokenRequests - before).toBe(1);
  });

  it('registers the client secret with the scrubber', () => {
    expect(scrubber.scrub(`secret=${secrets.reader}`)).toBe(`secret=${REDACTED}`);
  });

  it('reports missing permissions as an auth error, in reads and in validate', async () => {
    await put(key('denied'), 'denied-value');
    const none = await connect(spec(servicePrincipal('azure-no-access')), 'azure-none');
    const err = await none.getSecret({ key: key('denied') }, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(String(err)).toContain('permission');
    await expect(none.validate({ signal: signal() })).rejects.toBeInstanceOf(AuthError);
    await expect(client.validate({ signal: signal() })).resolves.toBeUndefined();
  });

  it('treats a disabled secret as absent: NotFound on read, skipped by find', async () => {
    const version = await put(key('disabled'), 'disabled-value', { group: `g${run}` });
    await put(key('enabled'), 'enabled-value', { group: `g${run}` });
    await admin.updateSecretProperties(key('disabled'), version, { enabled: false, abortSignal: signal() });
    await expect(client.getSecret({ key: key('disabled') }, { signal: signal() })).rejects.toBeInstanceOf(SecretNotFoundError);
    const readsBefore = (await peer.stats()).reads.length;
    const found = await client.findSecrets({ tags: { group: `g${run}` } }, { signal: signal() });
    expect(Object.fromEntries([...found].map(([k, v]) => [k, dec(v)]))).toEqual({ [key('enabled')]: 'enabled-value' });
    expect((await peer.stats()).reads.slice(readsBefore)).toEqual([key('enabled')]);
  });

  it('finds across pages, by name regexp and every tag together', async () => {
    const names = Array.from({ length: 30 }, (_, i) => key(`page-${String(i).padStart(2, '0')}`));
    for (const [i, name] of names.entries()) await put(name, `v${i}`, { parity: i % 2 ? 'odd' : 'even', run });
    const all = await client.findSecrets({ name: { regexp: `^${key('page-')}` } }, { signal: signal() });
    expect([...all.keys()].sort()).toEqual(names);
    const odd = await client.findSecrets({ name: { regexp: `^${key('page-')}` }, tags: { parity: 'odd', run } }, { signal: signal() });
    expect(odd.size).toBe(15);
    expect(dec(odd.get(key('page-01')))).toBe('v1');
    const byPrefix = await client.findSecrets({ path: key('page-2') }, { signal: signal() });
    expect([...byPrefix.keys()].sort()).toEqual(names.slice(20, 30));
  });

  it('reports a missing version as NotFound, a purged secret as NotFound, and a bad name as an invalid ref', async () => {
    await put(key('gone'), 'gone-value');
    await expect(client.getSecret({ key: key('gone'), version: '0123456789abcdef0123456789abcdef' }, { signal: signal() })).rejects.toBeInstanceOf(SecretNotFoundError);
    await peer.purge(key('gone'));
    await expect(client.getSecret({ key: key('gone') }, { signal: signal() })).rejects.toBeInstanceOf(SecretNotFoundError);
    const before = (await peer.stats()).vaultRequests;
    await expect(client.getSecret({ key: 'team-a/db' }, { signal: signal() })).rejects.toBeInstanceOf(InvalidRefError);
    expect((await peer.stats()).vaultRequests).toBe(before);
  });

  it('maps 429 to throttled and 5xx to unavailable, after few SDK retries', async () => {
    await put(key('faults'), 'fault-value');
    await peer.injectFault({ status: 429, count: 10 });
    await expect(client.getSecret({ key: key('faults') }, { signal: signal() })).rejects.toBeInstanceOf(ThrottledError);
    await peer.clearFaults();
    const before = (await peer.stats()).vaultRequests;
    await peer.injectFault({ status: 503, count: 10 });
    await expect(client.getSecret({ key: key('faults') }, { signal: signal() })).rejects.toBeInstanceOf(UnavailableError);
    expect((await peer.stats()).vaultRequests - before).toBe(3); // one try and two retries
    await peer.clearFaults();
    expect(dec(await client.getSecret({ key: key('faults') }, { signal: signal() }))).toBe('fault-value');
  });

  it('honours the deadline of a call to a server that hangs', async () => {
    await put(key('slow'), 'slow-value');
    await peer.injectFault({ status: 500, count: 1, delayMs: 5000 });
    const started = Date.now();
    const err = await client.getSecret({ key: key('slow') }, { signal: AbortSignal.timeout(500) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports an Entra outage as transient and Entra throttling as throttled', async () => {
    await peer.injectFault({ status: 503, count: 20, target: 'authority' });
    const down = await connect(spec(servicePrincipal('azure-reader')), 'azure-entra-down');
    await expect(down.getSecret({ key: key('faults') }, { signal: signal() })).rejects.toBeInstanceOf(UnavailableError);
    await peer.clearFaults();
    await peer.injectFault({ status: 503, count: 20, target: 'token' });
    const failing = await connect(spec(servicePrincipal('azure-reader')), 'azure-entra-failing');
    await expect(failing.getSecret({ key: key('faults') }, { signal: signal() })).rejects.toBeInstanceOf(UnavailableError);
    await peer.clearFaults();
    await peer.injectFault({ status: 429, count: 20, target: 'token' });
    const throttled = await connect(spec(servicePrincipal('azure-reader')), 'azure-entra-throttled');
    await expect(throttled.getSecret({ key: key('faults') }, { signal: signal() })).rejects.toBeInstanceOf(ThrottledError);
    await peer.clearFaults();
    // MSAL then holds back token requests of that client for a while: still throttled, without a request.
    const before = (await peer.stats()).tokenRequests;
    await expect(throttled.getSecret({ key: key('faults') }, { signal: signal() })).rejects.toBeInstanceOf(ThrottledError);
    expect((await peer.stats()).tokenRequests).toBe(before);
  });

  it('reports an untrusted server certificate as invalid config (no caBundle), never skipping TLS checks', async () => {
    const untrusted = await connect(spec(servicePrincipal('azure-reader'), { caBundle: undefined }), 'azure-no-ca');
    const err = await untrusted.getSecret({ key: key('faults') }, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(String(err)).toContain('caBundle');
  });

  it('reads a property of a JSON value and never puts the value in an error', async () => {
    await put(key('json'), JSON.stringify({ user: 'app', password: 'pw-never-in-errors' }));
    expect(dec(await client.getSecret({ key: key('json'), property: 'password' }, { signal: signal() }))).toBe('pw-never-in-errors');
    await put(key('text'), 'text-never-in-errors');
    const err = await client.getSecret({ key: key('text'), property: 'x' }, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRefError);
    expect(String(err)).not.toContain('text-never-in-errors');
  });
});
