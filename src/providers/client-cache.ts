/**
 * Authenticated provider clients, one per store and store generation, reused across reconciles.
 * A store that changes (new generation) or disappears gets its old client closed.
 */
import type { Logger } from '../observability/logger.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';
import type { SyncMetrics } from '../observability/metrics.js';
import { instrumentClient } from './instrumented-client.js';
import type { Provider, SecretsClient } from './provider.js';

export interface StoreIdentity {
  kind: 'SecretStore' | 'ClusterSecretStore';
  name: string;
  namespace?: string;
  uid: string;
  generation: number;
}

interface Entry {
  version: string;
  client: Promise<SecretsClient>;
}

export class ClientCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: { log: Logger; scrubber: SecretScrubber; metrics: SyncMetrics }) {}

  static storeKey(store: Pick<StoreIdentity, 'kind' | 'name' | 'namespace'>): string {
    return `${store.kind}/${store.namespace ?? ''}/${store.name}`;
  }

  /** The client for this store generation; concurrent callers share one connect. */
  get(store: StoreIdentity, provider: Provider, config: unknown): Promise<SecretsClient> {
    const key = ClientCache.storeKey(store);
    const version = `${store.uid}/${store.generation}`;
    const existing = this.entries.get(key);
    if (existing?.version === version) return existing.client;
    if (existing) this.closeEntry(existing);
    const client = provider
      .connect(config, {
        namespace: store.namespace,
        storeKind: store.kind,
        storeName: store.name,
        log: this.deps.log.child({ store: key }),
        scrubber: this.deps.scrubber,
      })
      .then((c) => instrumentClient(c, key, this.deps.metrics));
    const entry = { version, client };
    this.entries.set(key, entry);
    // A failed connect is not cached: the next call tries again.
    client.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return client;
  }

  /** Drops (and closes) the client of a store that was deleted. */
  evict(store: Pick<StoreIdentity, 'kind' | 'name' | 'namespace'>): void {
    const key = ClientCache.storeKey(store);
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.closeEntry(entry);
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(all.map(async (e) => (await e.client).close()));
  }

  private closeEntry(entry: Entry): void {
    entry.client.then(
      (c) => c.close(),
      () => undefined,
    ).catch((err: unknown) => this.deps.log.warn({ err }, 'closing a provider client failed'));
  }
}
