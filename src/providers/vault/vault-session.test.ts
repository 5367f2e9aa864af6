import { pino } from 'pino';
import { UnavailableError } from '../provider-errors.js';
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
