// The vault provider against a real OpenBao dev server, and Kubernetes/JWT auth against the real
// local kube-apiserver started by the e2e globalSetup: the contract suite with token auth, KV v1
// and v2, AppRole, Kubernetes and JWT logins, token renewal and re-login, namespaces, TLS with a
// caBundle, throttling, sealing and deadlines.
import { createServer, type Socket } from 'node:net';
import { pino } from 'pino';
import { findLeaks } from '../support/leaks.js';
import { loadTestCluster } from '../harness/cluster.js';
import { APP_SERVICE_ACCOUNT, type KubeAuthSetup, prepareKubeAuth } from '../peers/vault/vault-kube.js';
import { ROOT_TOKEN, startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import { type ClientCertificatePem, makeClientCertificate, seedCertAuth } from '../peers/vault/client-certs.js';
import { APPROLE, SHORT_MAX_TTL_SECONDS, SHORT_TTL_SECONDS, TEAM_NAMESPACE, VAULT_AUDIENCE, seedVault } from '../peers/vault/vault-seed.js';
import type { VaultAuth, VaultProviderSpec } from '../../src/api/providers/vault.js';
import { SecretScrubber } from '../../src/observability/secret-scrubber.js';
import type { CredentialSource, RequestBudget, SecretsClient, StoreContext } from '../../src/providers/provider.js';
import {
  AuthError,
  InvalidConfigError,
  InvalidRefError,
  SecretNotFoundError,
  ThrottledError,
  UnavailableError,
} from '../../src/providers/provider-errors.js';
import type { VaultSecretsClient } from '../../src/providers/vault/vault-client.js';
import { vaultProvider } from '../../src/providers/vault/vault-provider.js';
import { type ContractFixture, runContractSuite } from './contract-suite.js';

const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const signal = () => AbortSignal.timeout(15_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = Math.random().toString(16).slice(2, 8);

/** Records what the provider registers, so the leak check can look for exactly those values. */
class RecordingScrubber extends SecretScrubber {
  readonly added: string[] = [];
  override add(value: string | Uint8Array): void {
    this.added.push(typeof value === 'string' ? value : dec(value));
    super.add(value);
  }
}

// Raw log lines (no scrubbing hook), to prove the provider itself never logs a credential.
const logLines: string[] = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
const scrubber = new RecordingScrubber();

let kube: KubeAuthSetup;
let peer: VaultPeer;
let tokenRequests = 0;
const clients: SecretsClient[] = [];

const secrets: Record<string, Record<string, string>> = {
  'vault-token': { token: ROOT_TOKEN },
  'wrong-token': { token: 'not-a-vault-token' },
  approle: { 'secret-id': `${APPROLE.secretId}\n` }, // a trailing newline, as `kubectl create secret --from-file` keeps it
  'wrong-approle': { 'secret-id': 'not-the-secret-id' },
};

const credentials: CredentialSource = {
  async readSecretKey({ name, key }) {
    const value = secrets[name]?.[key];
    if (value === undefined) throw new InvalidConfigError(`Secret '${name}' has no key '${key}'`);
    return value;
  },
  async requestServiceAccountToken({ name, namespace, audiences, expirationSeconds }) {
    tokenRequests += 1;
    const token = await kube.requestToken(name, { namespace, audiences, expirationSeconds });
    return { token, expiresAt: Date.now() + (expirationSeconds ?? 600) * 1000 };
  },
};

function context(storeKind: StoreContext['storeKind'] = 'SecretStore', budget?: RequestBudget): StoreContext {
  return { namespace: kube.namespace, storeKind, storeName: 'vault', log, scrubber, credentials, budget };
}

async function connect(auth: VaultAuth, extra: Partial<VaultProviderSpec> = {}, budget?: RequestBudget): Promise<VaultSecretsClient> {
  const spec: VaultProviderSpec = { server: peer.endpoint, path: 'secret', auth, ...extra };
  expect(vaultProvider.validateConfig(spec)).toEqual([]);
  const client = (await vaultProvider.connect(spec, context('SecretStore', budget))) as VaultSecretsClient;
  clients.push(client);
  return client;
}

const tokenAuth = (name = 'vault-token'): VaultAuth => ({ tokenSecretRef: { name, key: 'token' } });
const appRoleAuth = (role = 'lockstep', secret = 'approle'): VaultAuth => ({
  appRole: { roleId: `${APPROLE.roleId}-${role}`, secretRef: { name: secret, key: 'secret-id' } },
});
const kubernetesAuth = (role = 'app'): VaultAuth => ({
  kubernetes: { role, serviceAccountRef: { name: APP_SERVICE_ACCOUNT, audiences: [VAULT_AUDIENCE] } },
});

async function putV2(key: string, data: Record<string, unknown>, mount = 'secret'): Promise<string> {
  const res = await peer.admin('POST', `${mount}/data/${key}`, { data });
  return String(res?.data?.version);
}

beforeAll(async () => {
  kube = await prepareKubeAuth(loadTestCluster());
  peer = await startVaultPeer({ seed: (p) => seedVault(p, kube) });
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await peer?.stop();
  await kube?.cleanup();
});

runContractSuite(
  'vault',
  async (): Promise<ContractFixture> => ({
    client: await connect(tokenAuth()),
    connectWithWrongCredentials: () => connect(tokenAuth('wrong-token')),
    connectWithBudget: (budget) => connect(tokenAuth(), {}, budget),
    async put(key, value, tags) {
      // A JSON object is stored as the secret's data map; any other value as the single field `value`.
      let data: Record<string, unknown> = { value };
      try {
        const parsed: unknown = JSON.parse(value);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
      } catch {
        // not JSON
      }
      const version = await putV2(key, data);
      if (tags) await peer.admin('POST', `secret/metadata/${key}`, { custom_metadata: tags });
      return version;
    },
    stopServer: () => peer.stop(),
    startServer: () => peer.start(),
    supportsTags: true,
    separator: '/',
  }),
  async () => undefined, // clients and the server are closed once, after every describe of this file
);

describe('vault provider: KV v2', () => {
  let client: VaultSecretsClient;
  const key = (name: string) => `kv2-${run}/${name}`;

  beforeAll(async () => {
    client = await connect(tokenAuth());
  });

  it('reads a secret as the JSON of its data map, a field with property, and a version', async () => {
    const v1 = await putV2(key('db'), { user: 'app', password: 'pw-one', port: 5432 });
    await putV2(key('db'), { user: 'app', password: 'pw-two', port: 5432 });
    expect(JSON.parse(dec(await client.getSecret({ key: key('db') }, { signal: signal() })))).toEqual({ user: 'app', password: 'pw-two', port: 5432 });
    expect(dec(await client.getSecret({ key: key('db'), property: 'password' }, { signal: signal() }))).toBe('pw-two');
    expect(dec(await client.getSecret({ key: key('db'), property: 'password', version: v1 }, { signal: signal() }))).toBe('pw-one');
    expect(dec(await client.getSecret({ key: key('db'), property: 'port' }, { signal: signal() }))).toBe('5432');
    const map = await client.getSecretMap({ key: key('db'), version: v1 }, { signal: signal() });
    expect(Object.fromEntries([...map].map(([k, v]) => [k, dec(v)]))).toEqual({ user: 'app', password: 'pw-one', port: '5432' });
  });

  it('reads a map holding only `value` as that value, and keeps it a map for extract', async () => {
    await putV2(key('single'), { value: 'just-the-value' });
    expect(dec(await client.getSecret({ key: key('single') }, { signal: signal() }))).toBe('just-the-value');
    const map = await client.getSecretMap({ key: key('single') }, { signal: signal() });
    expect(dec(map.get('value'))).toBe('just-the-value');
  });

  it('classifies missing keys, versions and properties, deleted versions and bad versions', async () => {
    const v1 = await putV2(key('gone'), { a: '1' });
    await peer.admin('DELETE', `secret/data/${key('gone')}`);
    const read = (ref: { key: string; version?: string; property?: string }) => client.getSecret(ref, { signal: signal() });
    await expect(read({ key: key('gone') })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(read({ key: key('gone'), version: v1 })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(read({ key: key('gone'), version: '99' })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(read({ key: key('db'), version: 'latest' })).rejects.toThrow(InvalidRefError);
    await expect(read({ key: key('db'), property: 'nope' })).rejects.toThrow(InvalidRefError);
    await expect(read({ key: `${key('db')}/` })).rejects.toThrow(InvalidRefError);
  });

  it('finds by path prefix, by name and by custom-metadata tags', async () => {
    await putV2(key('find/a/one'), { value: 'one' });
    await putV2(key('find/a/two'), { value: 'two' });
    await putV2(key('find/b/three'), { k: 'three' });
    await putV2(key('findother'), { value: 'other' });
    await peer.admin('POST', `secret/metadata/${key('find/a/two')}`, { custom_metadata: { env: `prod-${run}` } });
    const names = async (query: Parameters<SecretsClient['findSecrets']>[0]) => [...(await client.findSecrets(query, { signal: signal() })).keys()];
    expect(await names({ path: key('find/') })).toEqual([key('find/a/one'), key('find/a/two'), key('find/b/three')]);
    expect(await names({ path: key('find') })).toEqual([key('find/a/one'), key('find/a/two'), key('find/b/three'), key('findother')]);
    expect(await names({ path: `kv2-${run}/`, name: { regexp: '/a/' } })).toEqual([key('find/a/one'), key('find/a/two')]);
    expect(await names({ tags: { env: `prod-${run}` } })).toEqual([key('find/a/two')]);
    const found = await client.findSecrets({ path: key('find/b') }, { signal: signal() });
    expect(dec(found.get(key('find/b/three')))).toBe('{"k":"three"}');
    await expect(client.findSecrets({ name: { regexp: '([' } }, { signal: signal() })).rejects.toThrow(InvalidRefError);
  });

  it('validates the token and the mount version', async () => {
    await expect(client.validate({ signal: signal() })).resolves.toBeUndefined();
    const wrongVersion = await connect(tokenAuth(), { version: 'v1' });
    await expect(wrongVersion.validate({ signal: signal() })).rejects.toThrow(/secret\/ is a KV v2 mount/);
    const wrongToken = await connect(tokenAuth('wrong-token'));
    await expect(wrongToken.validate({ signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });
});

describe('vault provider: metadataPolicy Fetch reads KV v2 custom_metadata', () => {
  it('reads the custom metadata as JSON, one entry with property, every entry with extract; refuses KV v1', async () => {
    const key = `meta-${run}`;
    await putV2(key, { password: 'the-value-not-the-metadata' });
    await peer.admin('POST', `secret/metadata/${key}`, { custom_metadata: { owner: 'payments', 'app.kubernetes.io/name': 'shop' } });
    const client = await connect(appRoleAuth());
    const fetch = (extra: object = {}) => ({ key, metadataPolicy: 'Fetch' as const, ...extra });
    expect(JSON.parse(dec(await client.getSecret(fetch(), { signal: signal() })))).toEqual({ owner: 'payments', 'app.kubernetes.io/name': 'shop' });
    expect(dec(await client.getSecret(fetch({ property: 'owner' }), { signal: signal() }))).toBe('payments');
    const map = await client.getSecretMap(fetch(), { signal: signal() });
    expect(Object.fromEntries([...map].map(([k, v]) => [k, dec(v)]))).toEqual({ owner: 'payments', 'app.kubernetes.io/name': 'shop' });
    expect(dec(await client.getSecret({ key, property: 'password' }, { signal: signal() }))).toBe('the-value-not-the-metadata');
    await expect(client.getSecret(fetch({ property: 'team' }), { signal: signal() })).rejects.toThrow(
      `metadata 'team' does not exist on remote key '${key}' (its metadata keys are 'app.kubernetes.io/name', 'owner')`,
    );
    await expect(client.getSecret({ key: `no-such-${run}`, metadataPolicy: 'Fetch' }, { signal: signal() })).rejects.toBeInstanceOf(SecretNotFoundError);
    const v1 = await connect(tokenAuth(), { path: 'kv1', version: 'v1' });
    await expect(v1.getSecret(fetch(), { signal: signal() })).rejects.toThrow(InvalidRefError);
  });
});

describe('vault provider: KV v1', () => {
  let client: VaultSecretsClient;
  const key = (name: string) => `kv1-${run}/${name}`;

  beforeAll(async () => {
    client = await connect(tokenAuth(), { path: 'kv1', version: 'v1' });
    await peer.admin('POST', `kv1/${key('db')}`, { user: 'app', password: 'v1-pw' });
    await peer.admin('POST', `kv1/${key('nested/token')}`, { value: 'v1-token' });
  });

  it('reads the data map, a property and the single-value convention', async () => {
    expect(JSON.parse(dec(await client.getSecret({ key: key('db') }, { signal: signal() })))).toEqual({ user: 'app', password: 'v1-pw' });
    expect(dec(await client.getSecret({ key: key('db'), property: 'password' }, { signal: signal() }))).toBe('v1-pw');
    expect(dec(await client.getSecret({ key: key('nested/token') }, { signal: signal() }))).toBe('v1-token');
    await expect(client.getSecret({ key: key('missing') }, { signal: signal() })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(client.validate({ signal: signal() })).resolves.toBeUndefined();
  });

  it('refuses a version, since KV v1 has none', async () => {
    await expect(client.getSecret({ key: key('db'), version: '1' }, { signal: signal() })).rejects.toThrow(/KV v1 keeps no versions/);
  });

  it('finds by listing, and refuses tags', async () => {
    const found = await client.findSecrets({ path: `kv1-${run}/` }, { signal: signal() });
    expect([...found.keys()]).toEqual([key('db'), key('nested/token')]);
    await expect(client.findSecrets({ tags: { a: 'b' } }, { signal: signal() })).rejects.toBeInstanceOf(InvalidConfigError);
  });
});

describe('vault provider: AppRole', () => {
  const key = `approle-${run}/db`;

  beforeAll(async () => {
    await putV2(key, { password: 'approle-pw' });
    await putV2(key, { password: 'approle-pw' }, 'private');
  });

  it('logs in once and reuses the token', async () => {
    const client = await connect(appRoleAuth());
    for (let i = 0; i < 3; i++) expect(dec(await client.getSecret({ key, property: 'password' }, { signal: signal() }))).toBe('approle-pw');
    expect(client.stats).toEqual({ logins: 1, renewals: 0 });
  });

  it('validates the mount version with a policy-limited token too', async () => {
    await expect((await connect(appRoleAuth())).validate({ signal: signal() })).resolves.toBeUndefined();
    const wrongVersion = await connect(appRoleAuth(), { version: 'v1' });
    await expect(wrongVersion.validate({ signal: signal() })).rejects.toThrow(/secret\/ is a KV v2 mount/);
  });

  it('reports a wrong SecretID as an auth error', async () => {
    const client = await connect(appRoleAuth('lockstep', 'wrong-approle'));
    await expect(client.getSecret({ key }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });

  it('logs in again, once, when Vault revoked the token; a policy denial does not', async () => {
    const client = await connect(appRoleAuth());
    await client.getSecret({ key }, { signal: signal() });
    await peer.admin('PUT', 'sys/leases/revoke-prefix/auth/approle/login');
    expect(dec(await client.getSecret({ key, property: 'password' }, { signal: signal() }))).toBe('approle-pw');
    expect(client.stats.logins).toBe(2);

    const denied = await connect(appRoleAuth(), { path: 'private' });
    await expect(denied.getSecret({ key }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
    expect(denied.stats.logins).toBe(1);
  });
});

describe('vault provider: Kubernetes and JWT auth through the real kube-apiserver', () => {
  const key = `k8s-${run}/db`;

  beforeAll(async () => {
    await putV2(key, { password: 'k8s-pw' });
  });

  it('logs in with a TokenRequest token that Vault reviews with the apiserver', async () => {
    const before = tokenRequests;
    const client = await connect(kubernetesAuth());
    expect(dec(await client.getSecret({ key, property: 'password' }, { signal: signal() }))).toBe('k8s-pw');
    await expect(client.validate({ signal: signal() })).resolves.toBeUndefined();
    expect(client.stats.logins).toBe(1);
    expect(tokenRequests - before).toBe(1);
  });

  it('is refused for a role bound to another ServiceAccount', async () => {
    const client = await connect(kubernetesAuth('someone-else'));
    await expect(client.getSecret({ key }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });

  it('lets only a ClusterSecretStore log in as the operator itself', async () => {
    const spec: VaultProviderSpec = { server: peer.endpoint, path: 'secret', auth: { kubernetes: { role: 'app' } } };
    await expect(vaultProvider.connect(spec, context('SecretStore'))).rejects.toThrow(/needs serviceAccountRef/);
  });

  it('logs in with the JWT auth method, validating the token against the issuer keys', async () => {
    const client = await connect({ jwt: { role: 'app', serviceAccountRef: { name: APP_SERVICE_ACCOUNT, audiences: [VAULT_AUDIENCE] } } });
    expect(dec(await client.getSecret({ key, property: 'password' }, { signal: signal() }))).toBe('k8s-pw');
  });

  it(`keeps reading past a ${SHORT_TTL_SECONDS}s token TTL: renews, then logs in again at the max TTL and after idling`, async () => {
    const client = await connect(kubernetesAuth('short'));
    const started = Date.now();
    let reads = 0;
    while (Date.now() - started < (SHORT_MAX_TTL_SECONDS + 3) * 1000) {
      expect(dec(await client.getSecret({ key, property: 'password' }, { signal: signal() }))).toBe('k8s-pw');
      reads += 1;
      await sleep(500);
    }
    const busy = client.stats;
    console.log(`vault short TTL (${SHORT_TTL_SECONDS}s, max ${SHORT_MAX_TTL_SECONDS}s): ${reads} reads in ${Date.now() - started} ms, ${busy.logins} logins, ${busy.renewals} renewals`);
    // Renewed within the max TTL, then a second login once renewal could no longer extend it.
    expect(busy.renewals).toBeGreaterThanOrEqual(2);
    expect(busy.logins).toBeGreaterThanOrEqual(2);
    expect(busy.logins).toBeLessThan(reads / 4);

    await sleep((SHORT_TTL_SECONDS + 1) * 1000); // idle past the TTL: the token has expired
    expect(dec(await client.getSecret({ key, property: 'password' }, { signal: signal() }))).toBe('k8s-pw');
    expect(client.stats.logins).toBe(busy.logins + 1);
  }, 60_000);
});

describe('vault provider: AppRole renewal', () => {
  it('renews and re-logs in with AppRole too', async () => {
    const key = `approle-short-${run}/db`;
    await putV2(key, { value: 'short-lived' });
    const client = await connect(appRoleAuth('short'));
    const started = Date.now();
    while (Date.now() - started < (SHORT_MAX_TTL_SECONDS + 2) * 1000) {
      expect(dec(await client.getSecret({ key }, { signal: signal() }))).toBe('short-lived');
      await sleep(1000);
    }
    expect(client.stats.renewals).toBeGreaterThanOrEqual(1);
    expect(client.stats.logins).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

describe('vault provider: namespaces, TLS, throttling, outages and deadlines', () => {
  it('sends the namespace on every request', async () => {
    await peer.admin('POST', `${TEAM_NAMESPACE}/kv/data/ns-${run}`, { data: { value: 'in-team-a' } });
    const client = await connect(tokenAuth(), { path: 'kv', namespace: TEAM_NAMESPACE });
    expect(dec(await client.getSecret({ key: `ns-${run}` }, { signal: signal() }))).toBe('in-team-a');
    const outside = await connect(tokenAuth(), { path: 'kv' });
    await expect(outside.getSecret({ key: `ns-${run}` }, { signal: signal() })).rejects.toThrow();
  });

  it('trusts exactly the caBundle for an HTTPS server', async () => {
    const tls = await startVaultPeer({ tls: true });
    try {
      await tls.admin('POST', 'secret/data/tls', { data: { value: 'over-tls' } });
      const spec = (caBundle?: string): VaultProviderSpec => ({ server: tls.endpoint, path: 'secret', caBundle, auth: tokenAuth() });
      const ok = await vaultProvider.connect(spec(Buffer.from(tls.caPem() ?? '').toString('base64')), context());
      clients.push(ok);
      expect(dec(await ok.getSecret({ key: 'tls' }, { signal: signal() }))).toBe('over-tls');
      const wrongCa = await vaultProvider.connect(spec(Buffer.from(kube.caPem).toString('base64')), context());
      clients.push(wrongCa);
      await expect(wrongCa.getSecret({ key: 'tls' }, { signal: signal() })).rejects.toThrow(InvalidConfigError);
      expect(vaultProvider.validateConfig(spec(Buffer.from('not a pem').toString('base64')))).toEqual([expect.stringMatching(/caBundle/)]);
    } finally {
      await tls.stop();
    }
  });

  it('logs in with a TLS client certificate (cert auth), and refuses a certificate the role does not trust', async () => {
    const [trusted, stranger] = await Promise.all([makeClientCertificate('lockstep-app'), makeClientCertificate('someone-else')]);
    const certSecret = (name: string, c: ClientCertificatePem) => (secrets[name] = { 'tls.crt': c.certPem, 'tls.key': c.keyPem });
    certSecret('client-cert', trusted);
    certSecret('stranger-cert', stranger);
    secrets['mismatched-cert'] = { 'tls.crt': trusted.certPem, 'tls.key': stranger.keyPem };
    const tls = await startVaultPeer({ tls: true, seed: async (p) => {
      await p.admin('PUT', 'sys/policies/acl/cert-read', { policy: 'path "secret/data/*" { capabilities = ["read"] }' });
      await seedCertAuth(p, trusted, ['cert-read']);
    } });
    try {
      await tls.admin('POST', 'secret/data/by-cert', { data: { value: 'read-with-a-client-certificate' } });
      const caBundle = Buffer.from(tls.caPem() ?? '').toString('base64');
      const certAuth = (secret: string, role?: string): VaultAuth => ({ cert: { role, clientCert: { name: secret, key: 'tls.crt' }, secretRef: { name: secret, key: 'tls.key' } } });
      const connectTls = async (auth: VaultAuth) => {
        const spec: VaultProviderSpec = { server: tls.endpoint, path: 'secret', caBundle, auth };
        expect(vaultProvider.validateConfig(spec)).toEqual([]);
        const client = (await vaultProvider.connect(spec, context())) as VaultSecretsClient;
        clients.push(client);
        return client;
      };
      const ok = await connectTls(certAuth('client-cert'));
      expect(dec(await ok.getSecret({ key: 'by-cert' }, { signal: signal() }))).toBe('read-with-a-client-certificate');
      await expect(ok.validate({ signal: signal() })).resolves.toBeUndefined();
      expect(ok.stats.logins).toBe(1);
      // The role named explicitly, as the login's `name`.
      const named = await connectTls(certAuth('client-cert', 'lockstep'));
      expect(dec(await named.getSecret({ key: 'by-cert' }, { signal: signal() }))).toBe('read-with-a-client-certificate');

      const wrong = await connectTls(certAuth('stranger-cert'));
      const refused = await wrong.validate({ signal: signal() }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AuthError);
      expect((refused as Error).message).toMatch(/^logging in with cert \(auth\/cert\): .*invalid certificate/);
      const mismatched = await connectTls(certAuth('mismatched-cert'));
      const badPair = await mismatched.validate({ signal: signal() }).catch((e: unknown) => e);
      expect(badPair).toBeInstanceOf(InvalidConfigError);
      expect((badPair as Error).message).toBe("cert auth: the private key in Secret 'mismatched-cert' key 'tls.key' does not belong to the certificate in Secret 'mismatched-cert' key 'tls.crt'");
      expect(vaultProvider.validateConfig({ server: peer.endpoint, path: 'secret', auth: certAuth('client-cert') })).toEqual([
        'auth.cert needs an https server: the client certificate is presented in the TLS handshake',
      ]);
      expect(scrubber.added).toEqual(expect.arrayContaining([trusted.keyPem.trim()]));
    } finally {
      await tls.stop();
    }
  });

  it('maps a rate-limit quota to ThrottledError', async () => {
    const client = await connect(tokenAuth());
    await putV2(`throttle-${run}`, { value: 'x' });
    await peer.admin('POST', 'sys/quotas/rate-limit/lockstep-e2e', { path: 'secret/', rate: 1, interval: '10s' });
    try {
      const results = await Promise.allSettled([1, 2, 3].map(() => client.getSecret({ key: `throttle-${run}` }, { signal: signal() })));
      const errors = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
      expect(errors.length).toBeGreaterThan(0);
      for (const err of errors) expect(err).toBeInstanceOf(ThrottledError);
    } finally {
      await peer.admin('DELETE', 'sys/quotas/rate-limit/lockstep-e2e');
    }
  });

  it('cancels a request to a server that never answers when the deadline passes', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const client = await vaultProvider.connect({ server: `http://127.0.0.1:${port}`, path: 'secret', auth: tokenAuth() }, context());
      clients.push(client);
      const started = Date.now();
      await expect(client.getSecret({ key: 'any' }, { signal: AbortSignal.timeout(300) })).rejects.toBeInstanceOf(UnavailableError);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => silent.close(ok));
    }
  });

  it('reports a sealed server as unavailable, and a client made before works after the restart', async () => {
    await putV2(`sealed-${run}`, { value: 'after-unseal' });
    const client = await connect(appRoleAuth());
    await client.getSecret({ key: `sealed-${run}` }, { signal: signal() });
    await peer.admin('PUT', 'sys/seal');
    try {
      await expect(client.getSecret({ key: `sealed-${run}` }, { signal: signal() })).rejects.toThrow(UnavailableError);
    } finally {
      await peer.restart(); // a dev server cannot be unsealed with a known key: start a fresh one
    }
    await putV2(`sealed-${run}`, { value: 'after-unseal' });
    expect(dec(await client.getSecret({ key: `sealed-${run}` }, { signal: signal() }))).toBe('after-unseal');
    expect(client.stats.logins).toBe(2); // the old server's token is unknown to the new one
  });
});

describe('vault provider: no credential in logs', () => {
  it('registered every credential with the scrubber and logged none of them', () => {
    expect(scrubber.added).toEqual(expect.arrayContaining([ROOT_TOKEN, `${APPROLE.secretId}\n`]));
    expect(scrubber.added.some((v) => v.startsWith('eyJ'))).toBe(true); // ServiceAccount JWTs
    const credentialsSeen = [...new Set(scrubber.added)].filter((v) => v.length >= 6);
    expect(findLeaks(logLines.join('\n'), [...credentialsSeen, APPROLE.secretId, kube.reviewerJwt])).toEqual([]);
    expect(logLines.some((l) => l.includes('logged in to Vault'))).toBe(true);
  });
});
