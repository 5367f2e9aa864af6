import { pino } from 'pino';
import { AuthError, UnavailableError } from '../provider-errors.js';
import type { ApiCallOptions, VaultApi } from './vault-api.js';
import type { VaultAuthMethod, VaultLogin } from './vault-auth.js';
import { VaultSession } from './vault-session.js';

const log = pino({ level: 'silent' });
const signal = new AbortController().signal;
const apiError = (statusCode: number) => Object.assign(new Error(`Status ${statusCode}`), { response: { statusCode, body: {} } });

/** A Vault that knows which tokens are alive, and caps renewals at a max TTL. */
class FakeVault implements VaultApi {
  alive = new Set<string>();
  writes: string[] = [];
  maxTtlAt = Number.POSITIVE_INFINITY;
  renewError: Error | undefined;
  constructor(private readonly clock: { now: number }) {}

  read(path: string, o: ApiCallOptions): Promise<unknown> {
    if (!o.token || !this.alive.has(o.token)) return Promise.reject(apiError(403));
    if (path === 'denied') return Promise.reject(apiError(403));
    return Promise.resolve({ data: { path } });
  }
  write(path: string, _body: object, o: ApiCallOptions): Promise<unknown> {
    this.writes.push(path);
    if (path === 'auth/token/revoke-self') return Promise.resolve(undefined);
    if (this.renewError) return Promise.reject(this.renewError);
    if (!o.token || !this.alive.has(o.token)) return Promise.reject(apiError(403));
    const lease = Math.min(4, Math.floor((this.maxTtlAt - this.clock.now) / 1000));
    return Promise.resolve({ auth: { lease_duration: lease, renewable: true } });
  }
  list(): Promise<unknown> {
    return Promise.resolve({});
  }
  close(): void {}
}

function setup(opts: { leaseSeconds?: number; issuesTokens?: boolean; token?: () => string } = {}) {
  const clock = { now: 0 };
  const vault = new FakeVault(clock);
  let n = 0;
  const method: VaultAuthMethod = {
    description: 'test',
    issuesTokens: opts.issuesTokens ?? true,
    login: async (): Promise<VaultLogin> => {
      const token = opts.token?.() ?? `t${++n}`;
      if (!opts.token) vault.alive.add(token); // a static token is alive only if the test says so
      vault.maxTtlAt = clock.now + 10_000;
      return { token, leaseSeconds: opts.leaseSeconds ?? 4, renewable: true };
    },
  };
  const session = new VaultSession(vault, method, { log, now: () => clock.now });
  const read = (path = 'secret/data/a') => session.withToken(signal, (token) => vault.read(path, { token, signal }));
  return { clock, vault, session, read };
}

describe('VaultSession', () => {
  it('logs in once, and concurrent callers share that login', async () => {
    const { session, read } = setup();
    await Promise.all([read(), read(), read()]);
    await read();
    expect(session.stats).toEqual({ logins: 1, renewals: 0 });
  });

  it('renews past 2/3 of the lease, then logs in again when the max TTL caps the renewal', async () => {
    const { clock, session, read } = setup();
    await read();
    clock.now = 2_000;
    await read(); // not yet due
    expect(session.stats).toEqual({ logins: 1, renewals: 0 });
    clock.now = 3_000;
    await read();
    expect(session.stats).toEqual({ logins: 1, renewals: 1 });
    clock.now = 6_000;
    await read(); // 4 s left of the 10 s max TTL: still a full lease
    clock.now = 9_000;
    await read(); // capped to 1 s: renewed, but the next refresh logs in
    expect(session.stats).toEqual({ logins: 1, renewals: 3 });
    clock.now = 9_700;
    await read();
    expect(session.stats).toEqual({ logins: 2, renewals: 3 });
  });

  it('logs in instead of renewing a token that has expired, or that Vault refuses to renew', async () => {
    const { clock, vault, session, read } = setup();
    await read();
    clock.now = 60_000;
    vault.alive.clear();
    await read();
    expect(session.stats).toEqual({ logins: 2, renewals: 0 });
    clock.now = 63_000;
    vault.alive.clear(); // revoked: renew-self is refused with 403
    await read();
    expect(session.stats).toEqual({ logins: 3, renewals: 0 });
  });

  it('surfaces an outage during renewal as Unavailable, without logging in', async () => {
    const { clock, vault, session, read } = setup();
    await read();
    clock.now = 3_000;
    vault.renewError = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(read()).rejects.toBeInstanceOf(UnavailableError);
    expect(session.stats.logins).toBe(1);
  });

  it('logs in again and retries once when Vault no longer knows the token; not for a policy denial', async () => {
    const { vault, session, read } = setup({ leaseSeconds: 3600 });
    await read();
    vault.alive.clear(); // revoked behind our back
    await expect(read()).resolves.toEqual({ data: { path: 'secret/data/a' } });
    expect(session.stats.logins).toBe(2);
    await expect(read('denied')).rejects.toMatchObject({ response: { statusCode: 403 } });
    expect(session.stats.logins).toBe(2);
  });

  it('a revocation seen by concurrent callers costs one token check and one login', async () => {
    const { vault, session, read } = setup({ leaseSeconds: 3600 });
    await read();
    const lookups: string[] = [];
    const readToken = vault.read.bind(vault);
    vault.read = (path, o) => {
      if (path === 'auth/token/lookup-self') lookups.push(o.token ?? '');
      return readToken(path, o);
    };
    vault.alive.clear();
    await Promise.all([read(), read(), read(), read()]);
    expect(lookups).toEqual(['t1']);
    expect(session.stats.logins).toBe(2);
  });

  it('pauses a login Vault refused (30 s, doubling, 2 min at most) so repeated failures do not lock the role out', async () => {
    const clock = { now: 0 };
    const vault = new FakeVault(clock);
    let attempts = 0;
    let secretIdValid = false;
    const method: VaultAuthMethod = {
      description: 'approle (auth/approle)',
      issuesTokens: true,
      login: async () => {
        attempts += 1;
        if (!secretIdValid) throw new AuthError('logging in with approle (auth/approle): Vault answered 400: invalid role or secret ID', { cause: apiError(400) });
        vault.alive.add('fresh');
        return { token: 'fresh', leaseSeconds: 3600, renewable: true };
      },
    };
    const session = new VaultSession(vault, method, { log, now: () => clock.now });
    const read = () => session.withToken(signal, (token) => vault.read('secret/data/a', { token, signal }));
    await expect(read()).rejects.toThrow('invalid role or secret ID');
    for (const at of [1_000, 10_000, 29_999]) {
      clock.now = at;
      await expect(read()).rejects.toThrow(/invalid role or secret ID; not tried again before 1970-01-01T00:00:30.000Z/);
    }
    expect(attempts).toBe(1);
    clock.now = 30_000;
    await expect(read()).rejects.toBeInstanceOf(AuthError);
    clock.now = 89_999; // the second refusal pauses 60 s
    await expect(read()).rejects.toThrow('not tried again');
    expect(attempts).toBe(2);
    secretIdValid = true; // a new SecretID was issued
    clock.now = 90_000;
    await expect(read()).resolves.toBeDefined();
    expect(attempts).toBe(3);
  });

  it('does not pause after an outage: the next call logs in again', async () => {
    const clock = { now: 0 };
    const vault = new FakeVault(clock);
    let attempts = 0;
    const method: VaultAuthMethod = {
      description: 'approle (auth/approle)',
      issuesTokens: true,
      login: async () => {
        attempts += 1;
        throw new UnavailableError('logging in: Vault answered 503', { cause: apiError(503) });
      },
    };
    const session = new VaultSession(vault, method, { log, now: () => clock.now });
    await expect(session.token(signal)).rejects.toBeInstanceOf(UnavailableError);
    await expect(session.token(signal)).rejects.toBeInstanceOf(UnavailableError);
    expect(attempts).toBe(2);
  });

  it('re-reads a static token on 403 and gives up when it has not changed', async () => {
    let current = 'static-1';
    const { vault, session, read } = setup({ leaseSeconds: 0, issuesTokens: false, token: () => current });
    vault.alive.add('static-1');
    await read();
    vault.alive.clear();
    await expect(read()).rejects.toMatchObject({ response: { statusCode: 403 } });
    expect(session.stats.logins).toBe(2); // read the Secret again: same token, so the 403 stands
    current = 'static-2'; // rotated in the Secret
    vault.alive.add('static-2');
    await expect(read()).resolves.toBeDefined();
    expect(session.stats.logins).toBe(3);
  });

  it('revokes a token it obtained on close, never a token given as is', async () => {
    const owned = setup();
    await owned.read();
    await owned.session.close();
    expect(owned.vault.writes).toContain('auth/token/revoke-self');
    const given = setup({ leaseSeconds: 0, issuesTokens: false, token: () => 'static' });
    given.vault.alive.add('static');
    await given.read();
    await given.session.close();
    expect(given.vault.writes).not.toContain('auth/token/revoke-self');
  });
});
