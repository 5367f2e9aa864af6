import type { KubeObject, Resource } from '../kube/kube-port.js';
import { buildMetricsAuthorizer } from './metrics-auth.js';

function fakeKube(users: Record<string, { username: string; allowed: boolean }>) {
  const calls: string[] = [];
  let allowedFor = '';
  return {
    calls,
    kube: {
      async create<T extends KubeObject>(res: Resource, obj: T): Promise<T> {
        calls.push(res.plural);
        if (res.plural === 'tokenreviews') {
          const user = users[(obj['spec'] as { token: string }).token];
          allowedFor = user?.username ?? '';
          return { ...obj, status: user ? { authenticated: true, user: { username: user.username, groups: ['g'] } } : { authenticated: false } };
        }
        const spec = obj['spec'] as { user: string; nonResourceAttributes: { path: string; verb: string } };
        const allowed = Object.values(users).some((u) => u.username === spec.user && u.username === allowedFor && u.allowed);
        expect(spec.nonResourceAttributes).toEqual({ path: '/metrics', verb: 'get' });
        return { ...obj, status: { allowed } };
      },
    },
  };
}

describe('metrics authorizer', () => {
  it('answers 401 without or with an invalid token, 403 when not allowed, 200 when allowed; caches per token', async () => {
    let now = 0;
    const { kube, calls } = fakeKube({ good: { username: 'prom', allowed: true }, meh: { username: 'app', allowed: false } });
    const auth = buildMetricsAuthorizer(kube, () => now);
    expect((await auth.check(undefined)).status).toBe(401);
    expect((await auth.check('Basic abc')).status).toBe(401);
    expect((await auth.check('Bearer nope')).status).toBe(401);
    expect(await auth.check('Bearer meh')).toEqual({ status: 403, message: expect.stringMatching(/app may not get \/metrics/) });
    expect((await auth.check('Bearer good')).status).toBe(200);
    const before = calls.length;
    expect((await auth.check('bearer good')).status).toBe(200);
    expect(calls.length).toBe(before);
    now += 61_000;
    expect((await auth.check('Bearer good')).status).toBe(200);
    expect(calls.length).toBe(before + 2);
  });
});
