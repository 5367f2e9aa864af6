import { Registry } from 'prom-client';
import { buildSyncMetrics } from '../observability/metrics.js';
import { SecretScrubber } from '../observability/secret-scrubber.js';
import { FakeClock } from '../runtime/fake-clock.js';
import { buildMemoryLogger } from '../runtime/testing/memory-logger.js';
import { ClientCache, type StoreIdentity } from './client-cache.js';
import { fakeProvider } from './fake/fake-provider.js';
import type { Provider, StoreContext } from './provider.js';

const store: StoreIdentity = { kind: 'SecretStore', name: 'st', namespace: 'team-a', uid: 'u1', generation: 1 };
const signal = new AbortController().signal;

function setup() {
  const clock = new FakeClock(0);
  const contexts: StoreContext[] = [];
  const provider: Provider = {
    ...fakeProvider,
    connect: (config, ctx) => {
      contexts.push(ctx);
      return fakeProvider.connect(config as never, ctx);
    },
  };
  const cache = new ClientCache({
    log: buildMemoryLogger().log,
    scrubber: new SecretScrubber(),
    metrics: buildSyncMetrics(new Registry()),
    clock,
    credentialsFor: () => ({}) as never,
  });
  const config = { data: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3' }] };
  return { clock, contexts, provider, cache, config };
}

describe('ClientCache', () => {
  it('reuses one client per store generation and connects again for a new one', async () => {
    const { contexts, provider, cache, config } = setup();
    const first = await cache.get(store, provider, config);
    expect(await cache.get(store, provider, config)).toBe(first);
    expect(await cache.get({ ...store, generation: 2 }, provider, config)).not.toBe(first);
    expect(contexts).toHaveLength(2);
  });

  it("hands the store's rateLimit to the provider, which spends a token per call", async () => {
    const { clock, contexts, provider, cache, config } = setup();
    const client = await cache.get(store, provider, config, { qps: 1, burst: 1 });
    expect(contexts[0]?.budget).toBeDefined();
    let done = 0;
    const reads = ['a', 'b', 'c'].map((key) => client.getSecret({ key }, { signal }).then(() => done++));
    await clock.advance(0);
    expect(done).toBe(1); // the burst
    await clock.advance(1000);
    expect(done).toBe(2);
    await clock.advance(1000);
    await Promise.all(reads);
    expect(done).toBe(3);
  });

  it('gives no budget without a rateLimit', async () => {
    const { contexts, provider, cache, config } = setup();
    await cache.get(store, provider, config);
    expect(contexts[0]?.budget).toBeUndefined();
  });
});
