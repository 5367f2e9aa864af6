import type { ProviderSpec } from '../api/secret-store.js';
import { fakeProvider } from './fake/fake-provider.js';
import type { Provider } from './provider.js';

/** Loads a provider's module on first use, so an operator pays for (and loads) only the SDKs its stores use. */
export type ProviderLoader = () => Promise<Provider>;

/** The providers Lockstep knows, by their key under `spec.provider`. */
export class ProviderRegistry {
  private readonly loaded = new Map<string, Promise<Provider>>();

  constructor(private readonly loaders: Readonly<Record<string, ProviderLoader>>) {}

  /** The provider a store selects and its config; undefined when the store names none we know. */
  async resolve(spec: ProviderSpec): Promise<{ provider: Provider; config: unknown } | undefined> {
    const entries = Object.entries(spec).filter(([, v]) => v !== undefined);
    if (entries.length !== 1) return undefined;
    const [name, config] = entries[0] as [string, unknown];
    const loader = this.loaders[name];
    if (!loader) return undefined;
    let provider = this.loaded.get(name);
    if (!provider) {
      provider = loader();
      this.loaded.set(name, provider);
      provider.catch(() => this.loaded.delete(name));
    }
    return { provider: await provider, config };
  }
}

export function buildDefaultRegistry(): ProviderRegistry {
  return new ProviderRegistry({
    fake: () => Promise.resolve(fakeProvider as Provider),
    aws: async () => (await import('./aws/aws-provider.js')).awsProvider as Provider,
    vault: async () => (await import('./vault/vault-provider.js')).vaultProvider as Provider,
    gcp: async () => (await import('./gcp/gcp-provider.js')).gcpProvider as Provider,
    azure: async () => (await import('./azure/azure-provider.js')).azureProvider as Provider,
  });
}
