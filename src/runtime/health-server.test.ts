import { Counter, Registry } from 'prom-client';
import { failedChecks, startHealthServer, type HealthServer } from './health-server.js';

describe('startHealthServer', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(healthy: { live: boolean; ready: boolean; cache: boolean }) {
    const registry = new Registry();
    new Counter({ name: 'lockstep_test_total', help: 'test', registers: [registry] }).inc(3);
    server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      checks: {
        healthz: () => healthy.live,
        readyz: { leader: () => healthy.ready, informers: () => healthy.cache, flaky: () => { throw new Error('boom'); } },
      },
    });
    return (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server?.port}${path}`, init);
  }

  it('answers /healthz with 200 ok while healthy and 503 when not', async () => {
    const state = { live: true, ready: true, cache: true };
    const get = await start(state);
    const ok = await get('/healthz');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('ok\n');
    state.live = false;
    const bad = await get('/healthz');
    expect(bad.status).toBe(503);
    expect(await bad.text()).toBe('healthz failed: healthz\n');
  });

  it('names each failing readiness check, counting a throwing check as failed', async () => {
    const get = await start({ live: true, ready: false, cache: true });
    const res = await get('/readyz');
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('readyz failed: leader, flaky\n');
  });

  it('serves the registry in Prometheus text format', async () => {
    const get = await start({ live: true, ready: true, cache: true });
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('lockstep_test_total 3');
  });

  it('returns 404 for unknown paths and 405 for other methods', async () => {
    const get = await start({ live: true, ready: true, cache: true });
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/healthz', { method: 'POST' })).status).toBe(405);
  });

  it('binds to an ephemeral port and stops listening on close', async () => {
    const get = await start({ live: true, ready: true, cache: true });
    expect(server?.port).toBeGreaterThan(0);
    await server?.close();
    server = undefined;
    await expect(get('/healthz')).rejects.toThrow();
  });
});

describe('failedChecks', () => {
  it('names a lone check after its endpoint', () => {
    expect(failedChecks('readyz', () => false)).toEqual(['readyz']);
    expect(failedChecks('readyz', { a: () => true })).toEqual([]);
  });
});
