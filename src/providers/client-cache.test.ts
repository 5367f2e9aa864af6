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
  const registry = new Registry();
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
    metrics: buildSyncMetrics(registry),
    clock,
    credentialsFor: () => ({}) as never,
  });
  const config = { data: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3' }] };
  return { clock, contexts, provider, cache, config, registry };
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

  it('reads two properties and the map of one key with one provider call, counted as the operation it was made for', async () => {
    const { provider, cache, registry } = setup();
    const config = { data: [{ key: 'db', value: '{"username":"app","password":"pw"}' }, { key: 'other', value: '{"x":"1"}' }] };
    const client = await cache.get(store, provider, config);
    const opts = { signal, maxAgeMs: 60_000 };
    const values = await Promise.all([
      client.getSecret({ key: 'db', property: 'username' }, opts),
      client.getSecret({ key: 'db', property: 'password' }, opts),
      client.getSecretMap({ key: 'db' }, opts),
    ]);
    await client.getSecretMap({ key: 'other' }, opts);
    await client.getSecret({ key: 'other', property: 'x' }, opts);
    expect(values.slice(0, 2).map((v) => new TextDecoder().decode(v as Uint8Array))).toEqual(['app', 'pw']);
    const requests = (await registry.getSingleMetric('lockstep_provider_requests_total')?.get())?.values ?? [];
    expect(requests.map((r) => [r.labels.operation, r.labels.outcome, r.value])).toEqual([['getSecret', 'ok', 1], ['getSecretMap', 'ok', 1]]);
  });

  it('gives no budget without a rateLimit', async () => {
    const { contexts, provider, cache, config } = setup();
    await cache.get(store, provider, config);
    expect(contexts[0]?.budget).toBeUndefined();
  });
});
