import { pino } from 'pino';
import { VaultProviderSpec } from '../../api/providers/vault.js';
import { SecretScrubber } from '../../observability/secret-scrubber.js';
import { makeSelfSignedCertificate as makeCertificate } from '../../runtime/testing/self-signed.js';
import type { StoreContext } from '../provider.js';
import { InvalidConfigError } from '../provider-errors.js';
import type { VaultApi, VaultApiOptions } from './vault-api.js';
import type { VaultAuthMethod } from './vault-auth.js';
import { ClientTlsSource, readClientTls, refreshingClientTls } from './vault-client-tls.js';
import { connectVault, validateVaultConfig } from './vault-provider.js';

const one = makeCertificate('one');
const two = makeCertificate('two');
const tls = { certSecretRef: { name: 'client', key: 'tls.crt' }, keySecretRef: { name: 'client', key: 'tls.key' } };

function context(secrets: Record<string, string>) {
  const reads: string[] = [];
  const scrubber = new SecretScrubber();
  const ctx: StoreContext = {
    namespace: 'team-a', storeKind: 'SecretStore', storeName: 'v', log: pino({ level: 'silent' }), scrubber,
    credentials: {
      readSecretKey: ({ name, key }) => (reads.push(`${name}/${key}`), Promise.resolve(secrets[`${name}/${key}`] ?? '')),
      requestServiceAccountToken: () => Promise.reject(new Error('unexpected')),
    },
  };
  return { ctx, reads, scrubber };
}

describe('vault tls (a client certificate on every request)', () => {
  it('is ESO\'s spelling: tls.certSecretRef and tls.keySecretRef, both required, and needs an https server', () => {
    const spec = (server: string, t: object) => VaultProviderSpec.safeParse({ server, path: 'secret', tls: t, auth: { tokenSecretRef: { name: 't', key: 'token' } } });
    expect(spec('https://vault:8200', tls).success).toBe(true);
    expect(spec('https://vault:8200', { certSecretRef: tls.certSecretRef }).success).toBe(false);
    const plain = spec('http://vault:8200', tls);
    expect(plain.success && validateVaultConfig(plain.data)).toEqual(['tls needs an https server: the client certificate is presented in the TLS handshake']);
    const secure = spec('https://vault:8200', tls);
    expect(secure.success && validateVaultConfig(secure.data)).toEqual([]);
  });

  it('reads the pair from its Secrets, registers the key with the scrubber, and names a Secret that holds no certificate, no key, or another key', async () => {
    const { ctx, scrubber } = context({ 'client/tls.crt': one.cert, 'client/tls.key': one.key });
    expect(await readClientTls(tls, ctx)).toEqual({ certPem: one.cert, keyPem: one.key });
    expect(scrubber.scrub(one.key.trim())).toBe('[REDACTED]');
    const cases: [Record<string, string>, string][] = [
      [{ 'client/tls.crt': 'nope', 'client/tls.key': one.key }, "tls: Secret 'client' key 'tls.crt' does not hold a PEM certificate"],
      [{ 'client/tls.crt': one.cert, 'client/tls.key': 'nope' }, "tls: Secret 'client' key 'tls.key' does not hold a PEM private key"],
      [{ 'client/tls.crt': one.cert, 'client/tls.key': two.key }, "tls: the private key in Secret 'client' key 'tls.key' does not belong to the certificate in Secret 'client' key 'tls.crt'"],
    ];
    for (const [secrets, message] of cases) {
      const err = await readClientTls(tls, context(secrets).ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidConfigError);
      expect((err as Error).message).toBe(message);
    }
  });

  it('reads once, again before every login, and after a request without an answer at most every 30 s', async () => {
    let now = 1_000_000;
    let reads = 0;
    const source = new ClientTlsSource(() => (reads++, Promise.resolve({ certPem: `c${reads}`, keyPem: `k${reads}` })), () => now);
    await Promise.all([source.current(), source.current(), source.current()]);
    expect(reads).toBe(1); // concurrent callers share one read
    await source.current();
    expect(reads).toBe(1);
    const method: VaultAuthMethod = { description: 'm', issuesTokens: true, login: () => Promise.resolve({ token: 't', leaseSeconds: 0, renewable: false }) };
    await refreshingClientTls(method, source).login({} as VaultApi, new AbortController().signal);
    expect(await source.current()).toEqual({ certPem: 'c2', keyPem: 'k2' });
    source.failed(); // just read: not again yet
    await source.current();
    expect(reads).toBe(2);
    now += 30_000;
    source.failed();
    expect(await source.current()).toEqual({ certPem: 'c3', keyPem: 'k3' });
  });

  it('a read that fails is tried again at the next request', async () => {
    let fail = true;
    const source = new ClientTlsSource(() => (fail ? Promise.reject(new InvalidConfigError('no Secret')) : Promise.resolve({ certPem: 'c', keyPem: 'k' })));
    await expect(source.current()).rejects.toThrow('no Secret');
    fail = false;
    expect(await source.current()).toEqual({ certPem: 'c', keyPem: 'k' });
  });

  it('the store client hands the source to its API, and the auth method refreshes it at login', async () => {
    const { ctx, reads } = context({ 'client/tls.crt': one.cert, 'client/tls.key': one.key, 't/token': 'tok' });
    let options: VaultApiOptions | undefined;
    const api: VaultApi = { read: () => Promise.resolve({}), write: () => Promise.resolve({}), list: () => Promise.resolve({}), close: () => undefined };
    const spec = VaultProviderSpec.parse({ server: 'https://vault:8200', path: 'secret', tls, auth: { tokenSecretRef: { name: 't', key: 'token' } } });
    connectVault(spec, ctx, { createApi: (o) => ((options = o), api) });
    expect(await options?.clientTls?.current()).toEqual({ certPem: one.cert, keyPem: one.key });
    expect(reads).toEqual(['client/tls.crt', 'client/tls.key']);
  });
});
