// The gcp provider against the Secret Manager test peer (e2e/peers/gcp): OUR gRPC server for the
// real `google.cloud.secretmanager.v1` API, built from the protos shipped in the SDK, over TLS with
// a test CA, verifying the self-signed JWTs the SDK makes from a service-account key. It is not
// Google's service: it proves our client against the real wire protocol and real auth mechanics,
// not Google's IAM. The provider is used exactly as the operator uses it: gcpProvider.connect.
// Workload identity runs end to end with real ServiceAccount tokens from the local kube-apiserver
// (TokenRequest), exchanged at the peer's STS stand-in, which verifies them against the
// apiserver's published signing keys (as a Workload Identity Federation OIDC provider does).
import { generateKeyPairSync, type JsonWebKey, randomBytes } from 'node:crypto';
import { GcpProviderSpec } from '../../src/api/providers/gcp.js';
import { buildCredentialSource } from '../../src/controllers/credential-source.js';
import { createKubeClient, type KubeClientHandle } from '../../src/kube/kube-client.js';
import { buildLogger } from '../../src/observability/logger.js';
import { SecretScrubber } from '../../src/observability/secret-scrubber.js';
import { gcpProvider } from '../../src/providers/gcp/gcp-provider.js';
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
import { type GcpPeer, startGcpPeer, type TrustedServiceAccount } from '../peers/gcp/gcp-peer.js';
import { runContractSuite } from './contract-suite.js';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'lockstep-e2e';
const PROJECT_NUMBER = '123456789012';
const GRPC_STATUS = { RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 };
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const signal = () => AbortSignal.timeout(15_000);
const run = randomBytes(3).toString('hex');

interface TestServiceAccount {
  /** The JSON key file content, as `gcloud iam service-accounts keys create` writes it. */
  keyJson: string;
  /** What the peer trusts: the public half. */
  trusted: TrustedServiceAccount;
}

/** A service account with a fresh RSA key pair, made here (node:crypto); the key file exists only in memory. */
function makeServiceAccount(name: string, keyId: string, canList = true): TestServiceAccount {
  const email = `${name}@${PROJECT}.iam.gserviceaccount.com`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyJson = JSON.stringify({
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: keyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: email,
    client_id: '100000000000000000001',
    token_uri: 'https://oauth2.googleapis.com/token',
    universe_domain: 'googleapis.com',
  });
  return { keyJson, trusted: { email, keyId, canList, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string } };
}

const reader = makeServiceAccount('lockstep-reader', 'reader-key-1');
const noList = makeServiceAccount('lockstep-no-list', 'no-list-key-1', false);
/** Same account and key id as the reader, another private key: what a stale or forged key looks like. */
const forged = makeServiceAccount('lockstep-reader', 'reader-key-1');
const stranger = makeServiceAccount('lockstep-stranger', 'stranger-key-1');
const keySecrets: Record<string, string> = { reader: reader.keyJson, 'no-list': noList.keyJson, forged: forged.keyJson, stranger: stranger.keyJson };

/** Workload Identity Federation: the pool provider the STS stand-in plays, and its default allowed audience. */
const PROVIDER_AUDIENCE = `//iam.googleapis.com/projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/lockstep-e2e/providers/local-cluster`;
const TOKEN_AUDIENCE = `https:${PROVIDER_AUDIENCE}`;
/** ServiceAccounts: a federated reader, one that may only impersonate the reader service account, one with no grant. */
const KSA = { reader: 'app-reader', impersonator: 'app-impersonator', nobody: 'app-nobody' };

let peer: GcpPeer;
let cluster: TestCluster;
let kube: KubeClientHandle;
let namespace: string;
const scrubber = new SecretScrubber();
const log = buildLogger({ level: 'silent', scrubber });
const clients: SecretsClient[] = [];
/** Which Secrets the provider read its keys from. */
const readKeys: string[] = [];

const credentials: CredentialSource = {
  readSecretKey: (ref) => {
    readKeys.push(`${ref.name}/${ref.key}`);
    const value = ref.key === 'key.json' ? keySecrets[ref.name] : undefined;
    return value === undefined
      ? Promise.reject(new InvalidConfigError(`Secret '${ref.name}' has no key '${ref.key}'`))
      : Promise.resolve(value);
  },
  requestServiceAccountToken: () => Promise.reject(new Error('this store uses a service-account key')),
};

function storeContext(storeName: string, budget?: RequestBudget): StoreContext {
  return { namespace: 'team-a', storeKind: 'SecretStore', storeName, log, scrubber, credentials, budget };
}

function keySpec(secret: string, extra: Partial<GcpProviderSpec> = {}): GcpProviderSpec {
  return GcpProviderSpec.parse({
    projectID: PROJECT,
    endpoint: peer.endpoint,
    caBundle: peer.caPem,
    auth: { secretRef: { secretAccessKeySecretRef: { name: secret, key: 'key.json' } } },
    ...extra,
  });
}

async function connect(spec: GcpProviderSpec, storeName = 'gcp', budget?: RequestBudget): Promise<SecretsClient> {
  expect(gcpProvider.validateConfig(spec)).toEqual([]);
  const client = await gcpProvider.connect(spec, storeContext(storeName, budget));
  clients.push(client);
  return client;
}

/** The cluster's ServiceAccount token issuer and the keys it publishes, as an OIDC provider would fetch them. */
async function fetchIssuer(): Promise<{ issuer: string; jwks: JsonWebKey[] }> {
  const discovery = JSON.parse(await cluster.kubectl(['get', '--raw', '/.well-known/openid-configuration'])) as { issuer: string };
  const jwks = JSON.parse(await cluster.kubectl(['get', '--raw', '/openid/v1/jwks'])) as { keys: JsonWebKey[] };
  return { issuer: discovery.issuer, jwks: jwks.keys };
}

const subject = (ksa: string) => `system:serviceaccount:${namespace}:${ksa}`;

beforeAll(async () => {
  cluster = loadTestCluster();
  kube = createKubeClient({ kubeconfigPath: cluster.kubeconfigPath, fieldManager: 'lockstep', userAgent: 'lockstep-e2e', reportingInstance: 'e2e' });
  namespace = await cluster.createNamespace('gcp');
  for (const ksa of Object.values(KSA)) await cluster.kubectl(['-n', namespace, 'create', 'serviceaccount', ksa]);
  const { issuer, jwks } = await fetchIssuer();
  const started = Date.now();
  peer = await startGcpPeer({
    projectId: PROJECT,
    projectNumber: PROJECT_NUMBER,
    // The stranger is not among them: the peer does not know its key.
    serviceAccounts: [reader.trusted, noList.trusted],
    // Five secrets a page: every find in this file pages, as a big project would.
    maxPageSize: 5,
    federation: {
      providerAudience: PROVIDER_AUDIENCE,
      issuer,
      jwks,
      allowedAudiences: [TOKEN_AUDIENCE],
      readers: [subject(KSA.reader)],
      impersonation: { [reader.trusted.email]: [subject(KSA.impersonator)] },
    },
  });
  console.log(`Secret Manager test peer ${peer.endpoint} (TLS), STS ${peer.stsEndpoint}, ready in ${Date.now() - started} ms (log: ${peer.logFile})`);
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await peer?.stop();
  if (namespace) await cluster.deleteNamespace(namespace);
  await kube?.close();
});

runContractSuite(
  'gcp',
  async () => ({
    client: await connect(keySpec('reader')),
    connectWithWrongCredentials: () => connect(keySpec('forged'), 'gcp-forged'),
    connectWithBudget: (budget) => connect(keySpec('reader'), 'gcp-budgeted', budget),
    put: (key, value, tags) => peer.admin.put(key, value, tags),
    stopServer: () => peer.stop(),
    startServer: () => peer.start(),
    supportsTags: true,
    separator: '-',
  }),
  () => Promise.resolve(),
);

describe('gcp provider against the Secret Manager test peer', () => {
  let client: SecretsClient;
  const key = (name: string) => `gcp-${run}-${name}`;
  const read = (ref: { key: string; version?: string; property?: string; metadataPolicy?: 'Fetch' }, c = client) => c.getSecret(ref, { signal: signal() }).then(dec);

  beforeAll(async () => {
    client = await connect(keySpec('reader'), 'gcp-specific');
  });
  afterEach(() => peer.clearFaults());

  it('reads the key from its Secret once and registers it with the scrubber', async () => {
    readKeys.length = 0;
    const once = await connect(keySpec('reader'), 'gcp-once');
    await peer.admin.put(key('once'), 'once-value');
    for (let i = 0; i < 3; i++) expect(await read({ key: key('once') }, once)).toBe('once-value');
    expect(readKeys).toEqual(['reader/key.json']);
    const keyLine = (JSON.parse(reader.keyJson) as { private_key: string }).private_key.split('\n')[5] ?? '';
    expect(keyLine.length).toBeGreaterThan(40);
    expect(scrubber.scrub(`leak: ${keyLine}`)).toBe('leak: [REDACTED]');
  });

  it('reads labels and annotations with metadataPolicy Fetch, as ESO spells the property (labels.KEY, annotations.KEY)', async () => {
    await peer.admin.put(key('meta'), 'the-value-not-the-metadata', { team: 'a', env: 'prod' });
    await peer.admin.setAnnotations(key('meta'), { 'owner.example.com/team': 'payments' });
    const fetch = (property?: string) => read({ key: key('meta'), property, metadataPolicy: 'Fetch' });
    expect(JSON.parse(await fetch())).toEqual({ annotations: { 'owner.example.com/team': 'payments' }, labels: { env: 'prod', team: 'a' } });
    expect(JSON.parse(await fetch('labels'))).toEqual({ env: 'prod', team: 'a' });
    expect(await fetch('labels.team')).toBe('a');
    expect(await fetch('annotations.owner.example.com/team')).toBe('payments');
    expect(await read({ key: key('meta') })).toBe('the-value-not-the-metadata');
    await expect(fetch('labels.owner')).rejects.toThrow(`metadata 'owner' does not exist on remote key '${key('meta')}' (its metadata keys are 'env', 'team')`);
    await expect(fetch('team')).rejects.toBeInstanceOf(InvalidRefError);
    await expect(read({ key: key('no-such'), metadataPolicy: 'Fetch' })).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('reads versions by number, by latest and by alias', async () => {
    const v1 = await peer.admin.put(key('versions'), 'one');
    const v2 = await peer.admin.addVersion(key('versions'), 'two');
    await peer.admin.addVersion(key('versions'), 'three');
    expect([v1, v2]).toEqual(['1', '2']);
    await peer.admin.setAliases(key('versions'), { prod: v2 });
    expect(await read({ key: key('versions') })).toBe('three');
    expect(await read({ key: key('versions'), version: 'latest' })).toBe('three');
    expect(await read({ key: key('versions'), version: '1' })).toBe('one');
    expect(await read({ key: key('versions'), version: 'prod' })).toBe('two');
    await expect(read({ key: key('versions'), version: '9' })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(read({ key: key('versions'), version: 'canary' })).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('reports a disabled or destroyed version as an invalid ref, also when it is the latest', async () => {
    await peer.admin.put(key('disabled'), 'old-enabled');
    const v2 = await peer.admin.addVersion(key('disabled'), 'new-disabled');
    await peer.admin.disableVersion(key('disabled'), v2);
    const err = await read({ key: key('disabled') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRefError);
    expect((err as Error).message).toContain('FAILED_PRECONDITION');
    expect((err as Error).message).not.toContain('new-disabled');
    await expect(read({ key: key('disabled'), version: v2 })).rejects.toBeInstanceOf(InvalidRefError);
    expect(await read({ key: key('disabled'), version: '1' })).toBe('old-enabled');
    await peer.admin.destroyVersion(key('disabled'), '1');
    await expect(read({ key: key('disabled'), version: '1' })).rejects.toBeInstanceOf(InvalidRefError);
    await peer.admin.enableVersion(key('disabled'), v2);
    expect(await read({ key: key('disabled') })).toBe('new-disabled');
  });

  it('finds by labels over several pages, filtering itself while the server ignores the filter', async () => {
    const team = `t${run}`;
    await peer.admin.put(key('lbl-a'), 'a', { team, env: 'prod' });
    await peer.admin.put(key('lbl-b'), 'b', { team, env: 'dev' });
    await peer.admin.put(key('lbl-c'), 'c', { env: 'prod' });
    await peer.admin.put(key('lbl-d'), 'd-old', { team, env: 'prod' });
    // The newest version of d is disabled: find skips it rather than failing.
    await peer.admin.disableVersion(key('lbl-d'), await peer.admin.addVersion(key('lbl-d'), 'd-new'));
    await peer.admin.createSecret(key('lbl-e'), { team, env: 'prod' }); // no version at all
    await peer.resetStats();
    const found = await client.findSecrets({ tags: { team, env: 'prod' } }, { signal: signal() });
    expect(Object.fromEntries([...found].map(([k, v]) => [k, dec(v)]))).toEqual({ [key('lbl-a')]: 'a' });
    const stats = await peer.stats();
    expect(stats.listFilters.length).toBeGreaterThan(1); // several pages
    expect(new Set(stats.listFilters)).toEqual(new Set([`labels.team="${team}" AND labels.env="prod"`]));
    // Only the label matches were read: a, d and e.
    expect(stats.calls.AccessSecretVersion).toBe(3);
  });

  it('finds by name regexp and path prefix on secret ids', async () => {
    await peer.admin.put(key('path-x1'), 'x1');
    await peer.admin.put(key('path-x2'), 'x2');
    await peer.admin.put(key('path-y1'), 'y1');
    const byPath = await client.findSecrets({ path: key('path-x') }, { signal: signal() });
    expect([...byPath.keys()].sort()).toEqual([key('path-x1'), key('path-x2')]);
    const byName = await client.findSecrets({ name: { regexp: `^${key('path-')}[xy]1$` } }, { signal: signal() });
    expect([...byName.keys()].sort()).toEqual([key('path-x1'), key('path-y1')]);
  });

  it('reads by full resource name, by project ID or number; another project is denied', async () => {
    await peer.admin.put(key('by-name'), 'by-name-value');
    expect(await read({ key: `projects/${PROJECT}/secrets/${key('by-name')}` })).toBe('by-name-value');
    expect(await read({ key: `projects/${PROJECT_NUMBER}/secrets/${key('by-name')}` })).toBe('by-name-value');
    await expect(read({ key: `projects/other-project/secrets/${key('by-name')}` })).rejects.toBeInstanceOf(AuthError);
  });

  it('returns binary payloads as the exact bytes', async () => {
    const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
    await peer.admin.put(key('binary'), bytes);
    expect(Buffer.from(await client.getSecret({ key: key('binary') }, { signal: signal() }))).toEqual(Buffer.from(bytes));
  });

  it('cancels a call when the signal fires (deadline) and reports it as unavailable', async () => {
    await peer.admin.put(key('slow'), 'slow-value');
    await peer.injectFault({ methods: ['AccessSecretVersion'], delayMs: 10_000, count: 1 });
    const started = Date.now();
    const err = await client.getSecret({ key: key('slow') }, { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('CANCELLED');
    expect(Date.now() - started).toBeLessThan(3000);
    const aborted = AbortSignal.abort();
    await expect(client.getSecret({ key: key('slow') }, { signal: aborted })).rejects.toBeInstanceOf(UnavailableError);
    expect(await read({ key: key('slow') })).toBe('slow-value');
  });

  it('maps RESOURCE_EXHAUSTED to throttled and UNAVAILABLE to unavailable', async () => {
    await peer.admin.put(key('faults'), 'fault-value');
    await peer.injectFault({ methods: ['AccessSecretVersion'], code: GRPC_STATUS.RESOURCE_EXHAUSTED, count: 1 });
    await expect(read({ key: key('faults') })).rejects.toBeInstanceOf(ThrottledError);
    await peer.injectFault({ methods: ['AccessSecretVersion'], code: GRPC_STATUS.UNAVAILABLE, count: 1 });
    await expect(read({ key: key('faults') })).rejects.toBeInstanceOf(UnavailableError);
    expect(await read({ key: key('faults') })).toBe('fault-value');
  });

  it('validates: a reader is Ready, one that may not list is Ready too, an unknown account or a forged key is not', async () => {
    await expect(client.validate({ signal: signal() })).resolves.toBeUndefined();
    const noListClient = await connect(keySpec('no-list'), 'gcp-no-list');
    await expect(noListClient.validate({ signal: signal() })).resolves.toBeUndefined();
    await expect(noListClient.findSecrets({ path: key('') }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
    const strangerClient = await connect(keySpec('stranger'), 'gcp-stranger');
    await expect(strangerClient.validate({ signal: signal() })).rejects.toBeInstanceOf(AuthError);
    const forgedClient = await connect(keySpec('forged'), 'gcp-forged-validate');
    const before = (await peer.stats()).unauthenticated;
    await expect(forgedClient.validate({ signal: signal() })).rejects.toBeInstanceOf(AuthError);
    expect((await peer.stats()).unauthenticated).toBe(before + 1);
  });

  it('verifies the server certificate: without the test CA nothing reaches the server', async () => {
    await peer.admin.put(key('tls'), 'tls-value');
    await peer.resetStats();
    const untrusting = await connect(keySpec('reader', { caBundle: undefined }), 'gcp-no-ca');
    const err = await untrusting.getSecret({ key: key('tls') }, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    const stats = await peer.stats();
    expect(stats.calls).toEqual({});
    expect(stats.unauthenticated).toBe(0);
  });

  it('refuses a caBundle that is not a certificate bundle', () => {
    const bad = keySpec('reader', { caBundle: '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' });
    expect(gcpProvider.validateConfig(bad)).toEqual(['caBundle holds a PEM certificate that does not parse']);
  });
});

describe('gcp provider with workload identity (ServiceAccount token → STS → Secret Manager)', () => {
  const read = (ref: { key: string; property?: string }, c: SecretsClient) => c.getSecret(ref, { signal: signal() }).then(dec);
  const key = (name: string) => `gcp-${run}-wi-${name}`;
  /** ServiceAccount tokens the provider obtained from the apiserver (TokenRequest). */
  const issued: string[] = [];

  function kubeCredentials(storeName: string): StoreContext {
    const store = { kind: 'SecretStore' as const, name: storeName, namespace, uid: `uid-${storeName}`, generation: 1 };
    const source = buildCredentialSource(kube.client, scrubber, store);
    const recording: CredentialSource = {
      readSecretKey: (ref) => source.readSecretKey(ref),
      requestServiceAccountToken: async (ref) => {
        const token = await source.requestServiceAccountToken(ref);
        issued.push(token.token);
        return token;
      },
    };
    return { namespace, storeKind: 'SecretStore', storeName, log, scrubber, credentials: recording };
  }

  function wiSpec(ksa: string, extra: { serviceAccountEmail?: string; audiences?: string[]; caBundle?: string | null } = {}): GcpProviderSpec {
    return GcpProviderSpec.parse({
      projectID: PROJECT,
      endpoint: peer.endpoint,
      caBundle: extra.caBundle === null ? undefined : (extra.caBundle ?? peer.caPem),
      auth: {
        workloadIdentity: {
          serviceAccountRef: { name: ksa, audiences: extra.audiences ?? [TOKEN_AUDIENCE] },
          audience: PROVIDER_AUDIENCE,
          serviceAccountEmail: extra.serviceAccountEmail,
          stsEndpoint: peer.stsEndpoint,
          iamCredentialsEndpoint: peer.iamCredentialsEndpoint,
        },
      },
    });
  }

  async function connectWi(spec: GcpProviderSpec, storeName: string): Promise<SecretsClient> {
    expect(gcpProvider.validateConfig(spec)).toEqual([]);
    const client = await gcpProvider.connect(spec, kubeCredentials(storeName));
    clients.push(client);
    return client;
  }

  const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud: string[]; sub: string };

  it('exchanges one ServiceAccount token for a federated token and reads with it until it nears expiry', async () => {
    await peer.admin.put(key('db'), JSON.stringify({ password: 'wi-read-value' }));
    const client = await connectWi(wiSpec(KSA.reader), 'gcp-wi');
    const before = await peer.stats();
    issued.length = 0;
    expect(await read({ key: key('db'), property: 'password' }, client)).toBe('wi-read-value');
    expect(await read({ key: key('db') }, client)).toContain('wi-read-value');
    await expect(client.validate({ signal: signal() })).resolves.toBeUndefined();
    expect([...(await client.findSecrets({ path: key('') }, { signal: signal() })).keys()]).toEqual([key('db')]);
    const after = await peer.stats();
    expect(after.stsExchanges - before.stsExchanges).toBe(1);
    expect(issued).toHaveLength(1);
    expect(claims(issued[0] ?? '')).toMatchObject({ aud: [TOKEN_AUDIENCE], sub: subject(KSA.reader) });
    expect(scrubber.scrub(`token ${issued[0] ?? ''}`)).toBe('token [REDACTED]');
  });

  it('impersonates a Google service account the ServiceAccount may act as', async () => {
    await peer.admin.put(key('impersonated'), 'impersonated-value');
    const client = await connectWi(wiSpec(KSA.impersonator, { serviceAccountEmail: reader.trusted.email }), 'gcp-wi-impersonate');
    const before = await peer.stats();
    expect(await read({ key: key('impersonated') }, client)).toBe('impersonated-value');
    const after = await peer.stats();
    expect([after.stsExchanges - before.stsExchanges, after.impersonations - before.impersonations]).toEqual([1, 1]);
  });

  it('reports missing grants and a token for another audience as auth errors', async () => {
    await peer.admin.put(key('denied'), 'denied-value');
    // The federated principal of app-impersonator has no role on secrets itself.
    const direct = await connectWi(wiSpec(KSA.impersonator), 'gcp-wi-direct');
    await expect(read({ key: key('denied') }, direct)).rejects.toBeInstanceOf(AuthError);
    // app-nobody may not impersonate the reader service account: IAM Credentials answers 403.
    const impostor = await connectWi(wiSpec(KSA.nobody, { serviceAccountEmail: reader.trusted.email }), 'gcp-wi-nobody');
    await expect(read({ key: key('denied') }, impostor)).rejects.toBeInstanceOf(AuthError);
    // A token minted for another audience: STS refuses it (invalid_grant).
    const before = await peer.stats();
    const wrongAudience = await connectWi(wiSpec(KSA.reader, { audiences: ['https://example.com/not-the-pool'] }), 'gcp-wi-audience');
    await expect(read({ key: key('denied') }, wrongAudience)).rejects.toBeInstanceOf(AuthError);
    expect((await peer.stats()).federationRejected - before.federationRejected).toBe(1);
  });

  it('trusts the STS endpoint only through caBundle', async () => {
    const before = await peer.stats();
    const client = await connectWi(wiSpec(KSA.reader, { caBundle: null }), 'gcp-wi-no-ca');
    const err = await read({ key: key('db') }, client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('STS');
    expect((await peer.stats()).stsExchanges).toBe(before.stsExchanges);
  });
});
