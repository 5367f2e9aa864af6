import { Registry } from 'prom-client';
import { buildCacheScopeMetrics, buildExternalSecretStatusMetrics, buildRefreshMetrics, type CacheScope } from './metrics.js';

const es = (status?: string, reason?: string) => ({
  status: status === undefined ? undefined : { conditions: [{ type: 'Ready', status, reason }] },
});

describe('lockstep_externalsecrets_not_ready', () => {
  test('counts ExternalSecrets with Ready=False by reason at scrape time, and forgets recovered ones', async () => {
    const registry = new Registry();
    let items = [es('True', 'SecretSynced'), es('False', 'ProviderError'), es('False', 'ProviderError'), es('False', 'StoreNotFound'), es()];
    buildExternalSecretStatusMetrics(registry, () => items);
    const text = await registry.metrics();
    expect(text).toContain('lockstep_externalsecrets_not_ready{reason="ProviderError"} 2');
    expect(text).toContain('lockstep_externalsecrets_not_ready{reason="StoreNotFound"} 1');
    expect(text).not.toContain('SecretSynced');

    items = [es('True', 'SecretSynced'), es('False', 'StoreNotFound')];
    const later = await registry.metrics();
    expect(later).not.toContain('ProviderError');
    expect(later).toContain('lockstep_externalsecrets_not_ready{reason="StoreNotFound"} 1');
  });
});

describe('lockstep_store_refresh_age_seconds', () => {
  test("reports each store's seconds since its last complete round at scrape time", async () => {
    const registry = new Registry();
    buildRefreshMetrics(registry, () => [{ store: 'SecretStore/a/vault', time: 1_000 }], () => 31_000);
    expect(await registry.metrics()).toContain('lockstep_store_refresh_age_seconds{store="SecretStore/a/vault"} 30');
  });
});

describe('lockstep_cache_namespaces', () => {
  test('reports the namespaces holding ExternalSecrets under the scope their caches use now, nothing without a scope', async () => {
    const registry = new Registry();
    let scope: CacheScope | undefined = { clusterWide: false, namespaces: 3 };
    buildCacheScopeMetrics(registry, () => scope);
    let text = await registry.metrics();
    expect(text).toContain('lockstep_cache_namespaces{scope="per-namespace"} 3');
    expect(text).toContain('lockstep_cache_namespaces{scope="cluster-wide"} 0');
    scope = { clusterWide: true, namespaces: 40 };
    text = await registry.metrics();
    expect(text).toContain('lockstep_cache_namespaces{scope="cluster-wide"} 40');
    scope = undefined;
    expect(await registry.metrics()).not.toContain('lockstep_cache_namespaces{');
  });
});
