/**
 * Authenticated provider clients, one per store and store generation, reused across reconciles.
 * A store that changes (new generation) or disappears gets its old client closed.
 */
import type { Logger } from '../observability/logger.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';
import type { SyncMetrics } from '../observability/metrics.js';
import { instrumentClient } from './instrumented-client.js';
import type { Clock } from '../runtime/clock.js';
import { TokenBucket, type RateLimitSpec } from '../runtime/token-bucket.js';
import type { CredentialSource } from './provider.js';
import { SharedReads } from './shared-reads.js';
import type { Provider, RemoteRef, SecretsClient } from './provider.js';
import { InvalidRefError } from './provider-errors.js';
import { EndpointPolicy } from './endpoint-policy.js';
import { buildStoreNetwork } from './store-network.js';
import { checkStoreAccess, DEFAULT_APISERVER_AUDIENCES, type TenantPolicy } from './tenant-policy.js';

/** How long a complete round's reads stay after it (see releaseReads). */
const READ_RELEASE_GRACE_MS = 10_000;

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
  /** The scrubber owner of the client's credentials and tokens, forgotten when it closes. */
  owner: string;
}

export class ClientCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly deps: {
      log: Logger;
      scrubber: SecretScrubber;
      metrics: SyncMetrics;
      clock: Clock;
      /** Credentials as the store may read them: its own namespace for a SecretStore. */
      credentialsFor(store: StoreIdentity): CredentialSource;
      /**
       * What a store may ask for (see tenant-policy.ts); checked before every connect. Default: the
       * rules with no API server address known and the default API server audiences.
       */
      tenant?: TenantPolicy;
    },
  ) {
    this.tenant = deps.tenant ?? {
      endpoints: new EndpointPolicy(),
      apiserverAudiences: () => Promise.resolve(new Set(DEFAULT_APISERVER_AUDIENCES)),
    };
  }

  private readonly tenant: TenantPolicy;

  static storeKey(store: Pick<StoreIdentity, 'kind' | 'name' | 'namespace'>): string {
    return `${store.kind}/${store.namespace ?? ''}/${store.name}`;
  }

  /**
   * The client for this store generation; concurrent callers share one connect. It sits behind the
   * store's shared read layer (see shared-reads.ts); the provider spends the store's budget per call.
   */
  get(store: StoreIdentity, provider: Provider, config: unknown, rateLimit?: RateLimitSpec): Promise<SecretsClient> {
    const key = ClientCache.storeKey(store);
    const version = `${store.uid}/${store.generation}`; // a new generation re-reads config and credentials
    const existing = this.entries.get(key);
    if (existing?.version === version) return existing.client;
    if (existing) this.closeEntry(existing);
    const budget = rateLimit ? new TokenBucket(rateLimit, this.deps.clock) : undefined;
    const owner = `store/${key}@${version}`;
    const client = this.deps.scrubber
      .withOwner(owner, () => this.open(store, provider, config, owner, budget))
      .then((c) => new SharedReads(instrumentClient(ownedBy(c, this.deps.scrubber, owner, provider), key, this.deps.metrics), this.deps.clock));
    const entry = { version, client, owner };
    this.entries.set(key, entry);
    // A failed connect is not cached: the next call tries again.
    client.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      this.deps.scrubber.forget(owner);
    });
    return client;
  }

  /**
   * A refresh round of this store is complete: after a short grace (agents of delivery as files
   * are served from the same reads right after the change), the reads made for it are dropped,
   * so the values are held by what was rendered from them and nowhere else.
   */
  releaseReads(storeKey: string): void {
    const entry = this.entries.get(storeKey);
    if (!entry) return;
    const upTo = this.deps.clock.now();
    void this.deps.clock.sleep(READ_RELEASE_GRACE_MS)
      .then(() => entry.client)
      .then((client) => {
        if (client instanceof SharedReads) client.dropSettled(upTo);
      }, () => undefined);
  }

  /** Checks the store against the tenant policy (throws NotAllowedError), then opens the provider's client. */
  private async open(store: StoreIdentity, provider: Provider, config: unknown, owner: string, budget?: TokenBucket): Promise<SecretsClient> {
    const refusal = await checkStoreAccess(store.kind, provider.describeAccess(config), this.tenant);
    if (refusal) throw refusal;
    return provider.connect(config, {
      namespace: store.namespace,
      storeKind: store.kind,
      storeName: store.name,
      log: this.deps.log.child({ store: ClientCache.storeKey(store) }),
      scrubber: this.deps.scrubber.forOwner(owner),
      credentials: this.deps.credentialsFor(store),
      budget,
      network: buildStoreNetwork(store.kind, this.tenant.endpoints),
    });
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
    ).catch((err: unknown) => this.deps.log.warn({ err }, 'closing a provider client failed'))
      .finally(() => this.deps.scrubber.forget(entry.owner));
  }
}

/**
 * Every call of the client runs as the scrubber owner of its store generation, so credentials and
 * tokens it fetches on the way (a login, a token exchange) live as long as the client, not as
 * long as the ExternalSecret whose reconcile happened to trigger them.
 */
function ownedBy(client: SecretsClient, scrubber: SecretScrubber, owner: string, provider: Pick<Provider, 'name' | 'readsMetadata'>): SecretsClient {
  const run = <T>(fn: () => Promise<T>) => scrubber.withOwner(owner, fn);
  // metadataPolicy Fetch against a provider that would read the value instead: refused here, once for all providers.
  const checked = <T>(ref: RemoteRef, fn: () => Promise<T>) =>
    ref.metadataPolicy === 'Fetch' && !provider.readsMetadata
      ? Promise.reject(new InvalidRefError(`metadataPolicy Fetch: the ${provider.name} provider reads no metadata (aws, vault, azure and gcp do)`))
      : run(fn);
  const readWhole = client.readWhole?.bind(client);
  return {
    getSecret: (ref, opts) => checked(ref, () => client.getSecret(ref, opts)),
    getSecretMap: (ref, opts) => checked(ref, () => client.getSecretMap(ref, opts)),
    ...(readWhole && { readWhole: (ref, opts, operation) => checked(ref, () => readWhole(ref, opts, operation)) }),
    findSecrets: (query, opts) => run(() => client.findSecrets(query, opts)),
    validate: (opts) => run(() => client.validate(opts)),
    close: () => run(() => client.close()),
  };
}
