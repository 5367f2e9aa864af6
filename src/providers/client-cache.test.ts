import { Registry } from 'prom-client';
import { buildSyncMetrics } from '../observability/metrics.js';
import { SecretScrubber } from '../observability/secret-scrubber.js';
import { FakeClock } from '../runtime/fake-clock.js';
import { buildMemoryLogger } from '../runtime/testing/memory-logger.js';
import { ClientCache, type StoreIdentity } from './client-cache.js';
import { fakeProvider } from './fake/fake-provider.js';
import type { Provider, StoreContext } from './provider.js';
import { InvalidRefError } from './provider-errors.js';

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

  it('refuses metadataPolicy Fetch for a provider without metadata, instead of returning the value', async () => {
    const { provider, cache, config } = setup();
    const client = await cache.get(store, provider, config);
    await expect(client.getSecret({ key: 'a', metadataPolicy: 'Fetch' }, { signal })).rejects.toThrow(
      new InvalidRefError('metadataPolicy Fetch: the fake provider reads no metadata (aws, vault, azure and gcp do)'),
    );
    await expect(client.getSecretMap({ key: 'a', metadataPolicy: 'Fetch' }, { signal })).rejects.toBeInstanceOf(InvalidRefError);
    expect(new TextDecoder().decode(await client.getSecret({ key: 'a', metadataPolicy: 'None' }, { signal }))).toBe('1');
    const withMetadata = await cache.get({ ...store, name: 'meta' }, { ...provider, readsMetadata: true }, config);
    await expect(withMetadata.getSecret({ key: 'a', metadataPolicy: 'Fetch' }, { signal })).resolves.toBeDefined();
  });

  it('gives no budget without a rateLimit', async () => {
    const { contexts, provider, cache, config } = setup();
    await cache.get(store, provider, config);
    expect(contexts[0]?.budget).toBeUndefined();
  });
});
