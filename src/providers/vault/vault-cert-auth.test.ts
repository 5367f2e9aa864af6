import { pino } from 'pino';
import { VaultProviderSpec } from '../../api/providers/vault.js';
import { SecretScrubber } from '../../observability/secret-scrubber.js';
import { makeSelfSignedCertificate as makeCertificate } from '../../runtime/testing/self-signed.js';
import type { StoreContext } from '../provider.js';
import { AuthError, InvalidConfigError } from '../provider-errors.js';
import type { ApiCallOptions, VaultApi } from './vault-api.js';
import { buildAuthMethod } from './vault-auth.js';
import { validateVaultConfig } from './vault-provider.js';

const signal = new AbortController().signal;

const one = makeCertificate('one');
const two = makeCertificate('two');

function setup(secrets: Record<string, string>, answer: () => Promise<unknown>) {
  const calls: { path: string; body: object; opts: ApiCallOptions }[] = [];
  const api: VaultApi = {
    read: () => Promise.reject(new Error('unexpected read')),
    list: () => Promise.reject(new Error('unexpected list')),
    write: (path, body, opts) => (calls.push({ path, body, opts }), answer()),
    close: () => undefined,
  };
  const scrubber = new SecretScrubber();
  const ctx: StoreContext = {
    namespace: 'team-a', storeKind: 'SecretStore', storeName: 'v', log: pino({ level: 'silent' }), scrubber,
    credentials: {
      readSecretKey: ({ name, key }) => Promise.resolve(secrets[`${name}/${key}`] ?? ''),
      requestServiceAccountToken: () => Promise.reject(new Error('unexpected')),
    },
  };
  return { api, calls, ctx, scrubber };
}

const granted = () => Promise.resolve({ auth: { client_token: 'tok-cert-1', lease_duration: 60, renewable: true } });
const auth = (extra: object = {}) => ({ cert: { clientCert: { name: 'c', key: 'tls.crt' }, secretRef: { name: 'c', key: 'tls.key' }, ...extra } });

describe('vault TLS certificate auth', () => {
  it('logs in at auth/cert/login presenting the certificate and key read from the Secret at every login', async () => {
    const { api, calls, ctx, scrubber } = setup({ 'c/tls.crt': one.cert, 'c/tls.key': one.key }, granted);
    const method = buildAuthMethod(auth(), ctx);
    expect(method.description).toBe('cert (auth/cert)');
    expect(await method.login(api, signal)).toEqual({ token: 'tok-cert-1', leaseSeconds: 60, renewable: true });
    expect(calls).toEqual([{ path: 'auth/cert/login', body: {}, opts: { signal, clientCert: { certPem: one.cert, keyPem: one.key } } }]);
    expect(scrubber.scrub(`${one.key.trim()} tok-cert-1`)).toBe('[REDACTED] [REDACTED]');
  });

  it('sends the role as the login name and uses the mount path given', async () => {
    const { api, calls, ctx } = setup({ 'c/tls.crt': one.cert, 'c/tls.key': one.key }, granted);
    const method = buildAuthMethod(auth({ path: 'tls', role: 'web' }), ctx);
    expect(method.description).toBe("cert role 'web' (auth/tls)");
    await method.login(api, signal);
    expect(calls[0]).toMatchObject({ path: 'auth/tls/login', body: { name: 'web' } });
  });

  it('names the Secret that holds no certificate, no key, or a key of another certificate, before any request', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'c/tls.crt': 'not a pem', 'c/tls.key': one.key }, "cert auth: Secret 'c' key 'tls.crt' does not hold a PEM certificate"],
      [{ 'c/tls.crt': one.cert, 'c/tls.key': 'nope' }, "cert auth: Secret 'c' key 'tls.key' does not hold a PEM private key"],
      [{ 'c/tls.crt': one.cert, 'c/tls.key': two.key }, "cert auth: the private key in Secret 'c' key 'tls.key' does not belong to the certificate in Secret 'c' key 'tls.crt'"],
    ];
    for (const [secrets, message] of cases) {
      const { api, calls, ctx } = setup(secrets, granted);
      const err = await buildAuthMethod(auth(), ctx).login(api, signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidConfigError);
      expect((err as Error).message).toBe(message);
      expect(calls).toEqual([]);
    }
  });

  it('reports a refused certificate as an auth error', async () => {
    const refused = () => Promise.reject(Object.assign(new Error('Status 400'), { response: { statusCode: 400, body: { errors: ['invalid certificate or no client certificate supplied'] } } }));
    const { api, ctx } = setup({ 'c/tls.crt': one.cert, 'c/tls.key': one.key }, refused);
    const err = await buildAuthMethod(auth(), ctx).login(api, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as Error).message).toContain('logging in with cert (auth/cert)');
  });

  it('needs an https server, and the validation message lists every auth method', () => {
    const spec = (server: string, a: object) => VaultProviderSpec.parse({ server, path: 'secret', auth: a });
    expect(validateVaultConfig(spec('http://vault:8200', auth()))).toEqual(['auth.cert needs an https server: the client certificate is presented in the TLS handshake']);
    expect(validateVaultConfig(spec('https://vault:8200', auth()))).toEqual([]);
    const two = { ...auth(), tokenSecretRef: { name: 't', key: 'token' } };
    expect(validateVaultConfig({ server: 'https://vault:8200', path: 'secret', auth: two })).toEqual([
      'auth must set exactly one of tokenSecretRef, appRole, kubernetes, jwt, userPass, ldap or cert',
    ]);
  });
});
