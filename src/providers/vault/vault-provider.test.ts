import { pino } from 'pino';
import type { VaultProviderSpec } from '../../api/providers/vault.js';
import { SecretScrubber } from '../../observability/secret-scrubber.js';
import type { CredentialSource, StoreContext } from '../provider.js';
import { AuthError, InvalidConfigError } from '../provider-errors.js';
import type { ApiCallOptions, VaultApi, VaultApiOptions } from './vault-api.js';
import type { VaultSecretsClient } from './vault-client.js';
import { createVaultProvider, vaultProvider } from './vault-provider.js';

const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const signal = new AbortController().signal;
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const base: VaultProviderSpec = { server: 'https://vault.example:8200', path: 'secret', auth: { tokenSecretRef: { name: 's', key: 'token' } } };

interface Call {
  op: string;
  path: string;
  body?: object;
  token?: string;
}

/** A Vault that records calls and answers from a table of paths. */
function fakeApi(answers: Record<string, unknown>) {
  const calls: Call[] = [];
  const options: VaultApiOptions[] = [];
  const answer = (op: string, path: string, o: ApiCallOptions, body?: object) => {
    calls.push({ op, path, body, token: o.token });
    if (path.endsWith('/login')) return Promise.resolve({ auth: { client_token: 'vault-token', lease_duration: 3600, renewable: true } });
    if (path in answers) return Promise.resolve(answers[path]);
    return Promise.reject(Object.assign(new Error('Status 404'), { response: { statusCode: 404, body: {} } }));
  };
  const api: VaultApi = {
    read: (path, o) => answer('read', path, o),
    write: (path, body, o) => answer('write', path, o, body),
    list: (path, o) => answer('list', path, o),
    close: () => undefined,
  };
  return { calls, options, createApi: (o: VaultApiOptions) => (options.push(o), api) };
}

function context(storeKind: StoreContext['storeKind'] = 'SecretStore') {
  const scrubber = new SecretScrubber();
  const tokenRequests: unknown[] = [];
  const credentials: CredentialSource = {
    readSecretKey: ({ name, key }) => Promise.resolve(`${name}/${key}-value\n`),
    requestServiceAccountToken: (ref) => (tokenRequests.push(ref), Promise.resolve({ token: 'sa-jwt-token', expiresAt: 0 })),
  };
  const ctx: StoreContext = { namespace: 'team-a', storeKind, storeName: 'v', log: pino({ level: 'silent' }), scrubber, credentials };
  return { ctx, scrubber, tokenRequests };
}

describe('vault provider config', () => {
  it('accepts a minimal spec and reports what is wrong with a bad one', () => {
    expect(vaultProvider.validateConfig(base)).toEqual([]);
    expect(vaultProvider.validateConfig({ ...base, caBundle: b64(pem) })).toEqual([]);
    expect(vaultProvider.validateConfig({ ...base, caBundle: b64('nope') })).toEqual([expect.stringMatching(/base64 encoding of one or more PEM/)]);
    expect(vaultProvider.validateConfig({ ...base, server: 'http://v:8200', caBundle: b64(pem) })).toEqual(['caBundle is set but server is plain http']);
    expect(vaultProvider.validateConfig({ ...base, server: 'ftp://v' })).toEqual([expect.stringMatching(/http\(s\) URL/)]);
    expect(vaultProvider.validateConfig({ ...base, auth: {} })).toEqual([expect.stringMatching(/exactly one/)]);
  });

  it('refuses to connect with a bad config, and passes server, namespace and CA to the API', async () => {
    const { ctx } = context();
    await expect(vaultProvider.connect({ ...base, auth: {} }, ctx)).rejects.toBeInstanceOf(InvalidConfigError);
    const fake = fakeApi({});
    await createVaultProvider({ createApi: fake.createApi }).connect({ ...base, server: 'https://v:8200/', namespace: 'ns', caBundle: b64(pem) }, ctx);
    expect(fake.options).toEqual([expect.objectContaining({ server: 'https://v:8200', namespace: 'ns', caPem: pem })]);
    expect(fake.calls).toEqual([]); // connecting makes no request
  });
});

describe('vault provider auth methods', () => {
  const read = async (auth: VaultProviderSpec['auth'], storeKind?: StoreContext['storeKind'], readOwnToken?: () => Promise<string>) => {
    const fake = fakeApi({ 'secret/data/db': { data: { data: { value: 'v' } } } });
    const { ctx, scrubber, tokenRequests } = context(storeKind);
    const provider = createVaultProvider({ createApi: fake.createApi, readOwnToken });
    const client = await provider.connect({ ...base, auth }, ctx);
    expect(dec(await client.getSecret({ key: 'db' }, { signal }))).toBe('v');
    return { calls: fake.calls, scrubber, tokenRequests };
  };

  it('uses a token from a Secret as it is, trimmed', async () => {
    const { calls, scrubber } = await read({ tokenSecretRef: { name: 'vault', key: 'token' } });
    expect(calls).toEqual([{ op: 'read', path: 'secret/data/db', token: 'vault/token-value', body: undefined }]);
    expect(scrubber.scrub('x vault/token-value x')).toBe('x [REDACTED] x');
  });

  it('logs in with AppRole at its mount, reading the SecretID at login', async () => {
    const { calls, scrubber } = await read({ appRole: { path: 'ar', roleId: 'rid', secretRef: { name: 'ar', key: 'sid' } } });
    expect(calls[0]).toEqual({ op: 'write', path: 'auth/ar/login', body: { role_id: 'rid', secret_id: 'ar/sid-value' }, token: undefined });
    expect(calls[1]).toMatchObject({ path: 'secret/data/db', token: 'vault-token' });
    expect(scrubber.scrub('vault-token ar/sid-value')).toBe('[REDACTED] [REDACTED]');
  });

  it('logs in with Kubernetes auth using a TokenRequest token for the ServiceAccount', async () => {
    const { calls, tokenRequests } = await read({ kubernetes: { role: 'r', serviceAccountRef: { name: 'app', audiences: ['vault'] } } });
    expect(tokenRequests).toEqual([{ name: 'app', namespace: undefined, audiences: ['vault'], expirationSeconds: 600 }]);
    expect(calls[0]).toEqual({ op: 'write', path: 'auth/kubernetes/login', body: { role: 'r', jwt: 'sa-jwt-token' }, token: undefined });
  });

  it("lets only a ClusterSecretStore use the operator's own token", async () => {
    const { calls } = await read({ kubernetes: { role: 'r', mountPath: 'k8s' } }, 'ClusterSecretStore', () => Promise.resolve('own-token\n'));
    expect(calls[0]).toMatchObject({ path: 'auth/k8s/login', body: { role: 'r', jwt: 'own-token' } });
    const { ctx } = context('SecretStore');
    await expect(vaultProvider.connect({ ...base, auth: { kubernetes: { role: 'r' } } }, ctx)).rejects.toThrow(/needs serviceAccountRef/);
  });

  it('logs in with JWT auth, with or without a role', async () => {
    const { calls } = await read({ jwt: { serviceAccountRef: { name: 'app' } } });
    expect(calls[0]).toEqual({ op: 'write', path: 'auth/jwt/login', body: { jwt: 'sa-jwt-token' }, token: undefined });
  });

  it('reports a login that returns no token as an auth error', async () => {
    const { ctx } = context();
    const api: VaultApi = { read: () => Promise.resolve({}), write: () => Promise.resolve({}), list: () => Promise.resolve({}), close: () => undefined };
    const client = await createVaultProvider({ createApi: () => api }).connect({ ...base, auth: { jwt: { serviceAccountRef: { name: 'a' } } } }, ctx);
    await expect(client.getSecret({ key: 'db' }, { signal })).rejects.toBeInstanceOf(AuthError);
  });
});

describe('vault client reads', () => {
  it('reads KV v1 paths, extracts maps and finds by listing', async () => {
    const fake = fakeApi({
      'kv/app/db': { data: { user: 'u', password: 'p' } },
      'kv/app/token': { data: { value: 't' } },
      'kv/': { data: { keys: ['app/'] } },
      'kv/app/': { data: { keys: ['db', 'token'] } },
    });
    const { ctx } = context();
    const client = (await createVaultProvider({ createApi: fake.createApi }).connect({ ...base, path: 'kv', version: 'v1' }, ctx)) as VaultSecretsClient;
    expect(dec(await client.getSecret({ key: 'app/db', property: 'password' }, { signal }))).toBe('p');
    const map = await client.getSecretMap({ key: 'app/db' }, { signal });
    expect([...map.keys()]).toEqual(['user', 'password']);
    const found = await client.findSecrets({ name: { regexp: 'tok' } }, { signal });
    expect(Object.fromEntries([...found].map(([k, v]) => [k, dec(v)]))).toEqual({ 'app/token': 't' });
    expect(client.stats).toEqual({ logins: 1, renewals: 0 });
  });
});
