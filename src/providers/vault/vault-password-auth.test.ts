import { pino } from 'pino';
import { SecretScrubber } from '../../observability/secret-scrubber.js';
import type { StoreContext } from '../provider.js';
import { AuthError } from '../provider-errors.js';
import type { VaultApi } from './vault-api.js';
import { buildAuthMethod } from './vault-auth.js';

const signal = new AbortController().signal;

function setup(answer: (path: string) => Promise<unknown>) {
  const calls: { path: string; body?: object }[] = [];
  const api: VaultApi = {
    read: () => Promise.reject(new Error('unexpected read')),
    list: () => Promise.reject(new Error('unexpected list')),
    write: (path, body) => (calls.push({ path, body }), answer(path)),
    close: () => undefined,
  };
  const scrubber = new SecretScrubber();
  const reads: string[] = [];
  const ctx: StoreContext = {
    namespace: 'team-a', storeKind: 'SecretStore', storeName: 'v', log: pino({ level: 'silent' }), scrubber,
    credentials: {
      readSecretKey: ({ name, key }) => (reads.push(`${name}/${key}`), Promise.resolve(`pw-of-${name}\n`)),
      requestServiceAccountToken: () => Promise.reject(new Error('unexpected')),
    },
  };
  return { api, calls, ctx, scrubber, reads };
}

const granted = () => Promise.resolve({ auth: { client_token: 'tok-1', lease_duration: 60, renewable: true } });

describe('vault userpass and LDAP auth', () => {
  it.each([
    ['userPass', 'userpass'],
    ['ldap', 'ldap'],
  ] as const)('%s logs in at auth/%s/login/USERNAME with the password from the Secret, read at every login', async (field, mount) => {
    const { api, calls, ctx, scrubber, reads } = setup(granted);
    const method = buildAuthMethod({ [field]: { username: 'app@corp', secretRef: { name: 'creds', key: 'password' } } }, ctx);
    expect(method.description).toBe(`${mount} user 'app@corp' (auth/${mount})`);
    expect(await method.login(api, signal)).toEqual({ token: 'tok-1', leaseSeconds: 60, renewable: true });
    await method.login(api, signal);
    expect(calls).toEqual([
      { path: `auth/${mount}/login/app%40corp`, body: { password: 'pw-of-creds' } },
      { path: `auth/${mount}/login/app%40corp`, body: { password: 'pw-of-creds' } },
    ]);
    expect(reads).toEqual(['creds/password', 'creds/password']);
    expect(scrubber.scrub('pw-of-creds tok-1')).toBe('[REDACTED] [REDACTED]');
  });

  it('uses the mount path given, and reports a refused login as an auth error', async () => {
    const refused = () => Promise.reject(Object.assign(new Error('Status 400'), { response: { statusCode: 400, body: { errors: ['invalid username or password'] } } }));
    const { api, calls, ctx } = setup(refused);
    const method = buildAuthMethod({ userPass: { path: 'people', username: 'u', secretRef: { name: 'c', key: 'p' } } }, ctx);
    await expect(method.login(api, signal)).rejects.toBeInstanceOf(AuthError);
    expect(calls[0]?.path).toBe('auth/people/login/u');
  });
});
