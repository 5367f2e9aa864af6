import type { ProviderSpec } from '../api/secret-store.js';
import { awsProvider } from './aws/aws-provider.js';
import { azureProvider } from './azure/azure-provider.js';
import { fakeProvider } from './fake/fake-provider.js';
import { gcpProvider } from './gcp/gcp-provider.js';
import { vaultProvider } from './vault/vault-provider.js';
import type { Provider } from './provider.js';

/** The providers Lockstep knows, by their key under `spec.provider`. */
export class ProviderRegistry {
  private readonly providers = new Map<string, Provider>();

  constructor(providers: Provider[]) {
    for (const p of providers) this.providers.set(p.name, p);
  }

  /** The provider a store selects and its config; undefined when the store names none we know. */
  resolve(spec: ProviderSpec): { provider: Provider; config: unknown } | undefined {
    const entries = Object.entries(spec).filter(([, v]) => v !== undefined);
    if (entries.length !== 1) return undefined;
    const [name, config] = entries[0] as [string, unknown];
    const provider = this.providers.get(name);
    return provider ? { provider, config } : undefined;
  }
}

export function buildDefaultRegistry(): ProviderRegistry {
  return new ProviderRegistry([fakeProvider, awsProvider, vaultProvider, azureProvider, gcpProvider].map((p) => p as Provider));
}
