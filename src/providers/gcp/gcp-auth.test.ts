import { parseServiceAccountKey, WorkloadIdentityTokenSource } from './gcp-auth.js';
import type { FetchFn } from './gcp-sts.js';
import { InvalidConfigError, UnavailableError } from '../provider-errors.js';

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });

function fixture(opts: { email?: string } = {}) {
  let now = 1_000_000;
  const added: string[] = [];
  const calls: string[] = [];
  let tokens = 0;
  const fetchFn: FetchFn = (input) => {
    const url = String(input);
    calls.push(url);
    tokens += 1;
    if (url.includes('generateAccessToken')) return Promise.resolve(json({ accessToken: `sa-${tokens}`, expireTime: new Date(now + 3600_000).toISOString() }));
    return Promise.resolve(json({ access_token: `fed-${tokens}`, expires_in: 3600 }));
  };
  const ctx = {
    scrubber: { add: (v: string | Uint8Array) => void added.push(String(v)) },
    credentials: {
      readSecretKey: () => Promise.reject(new Error('unused')),
      requestServiceAccountToken: () => Promise.resolve({ token: 'k8s-token', expiresAt: now + 600_000 }),
    },
  };
  const config = {
    serviceAccountRef: { name: 'app' },
    audience: 'aud',
    stsEndpoint: 'http://127.0.0.1:9/token',
    iamCredentialsEndpoint: 'http://127.0.0.1:9',
    serviceAccountEmail: opts.email,
  };
  const source = new WorkloadIdentityTokenSource(config, ctx as never, { fetchFn, now: () => now });
  return { source, added, calls, advance: (ms: number) => (now += ms) };
}

describe('service-account keys', () => {
  it('accepts a service-account JSON key and names the Secret, never the content, when it is not one', () => {
    const key = parseServiceAccountKey('{"type":"service_account","client_email":"a@b","private_key":"K"}', 'here');
    expect(key.client_email).toBe('a@b');
    expect(() => parseServiceAccountKey('not json secret-ish', "key 'k' of Secret 's'")).toThrow(InvalidConfigError);
    expect(() => parseServiceAccountKey('{"type":"authorized_user"}', "key 'k' of Secret 's'")).toThrow(
      "key 'k' of Secret 's' is not a service-account JSON key",
    );
  });
});

describe('WorkloadIdentityTokenSource', () => {
  const signal = () => AbortSignal.timeout(5000);

  it('exchanges once, serves the cached token, and refreshes near expiry', async () => {
    const f = fixture();
    const [a, b] = await Promise.all([f.source.token(signal()), f.source.token(signal())]);
    expect(a.token).toBe('fed-1');
    expect(b.token).toBe('fed-1');
    f.advance(50 * 60_000);
    expect((await f.source.token(signal())).token).toBe('fed-1');
    f.advance(6 * 60_000); // within five minutes of expiry
    expect((await f.source.token(signal())).token).toBe('fed-2');
    expect(f.calls).toHaveLength(2);
    expect(f.added).toEqual(expect.arrayContaining(['k8s-token', 'fed-1', 'fed-2']));
  });

  it('impersonates when a Google service account is named', async () => {
    const f = fixture({ email: 'reader@p.iam.gserviceaccount.com' });
    expect((await f.source.token(signal())).token).toBe('sa-2');
    expect(f.calls[1]).toContain('reader%40p.iam.gserviceaccount.com:generateAccessToken');
    expect(f.added).toEqual(expect.arrayContaining(['fed-1', 'sa-2']));
  });

  it('stops waiting when the caller gives up', async () => {
    const f = fixture();
    await expect(f.source.token(AbortSignal.abort())).rejects.toBeInstanceOf(UnavailableError);
  });
});
