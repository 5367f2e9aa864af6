/** The `fake` provider: serves the values written in the store's spec. For demos and tests. */
import { compileNamePattern } from '../name-pattern.js';
import type { FakeProviderSpec } from '../../api/secret-store.js';
import { buildJsonWhole, encodeText } from '../json-value.js';
import type { CallOptions, FindQuery, Provider, RemoteRef, RequestBudget, SecretsClient, WholeSecret } from '../provider.js';
import { InvalidConfigError, SecretNotFoundError } from '../provider-errors.js';

type Entry = FakeProviderSpec['data'][number];

export class FakeSecretsClient implements SecretsClient {
  constructor(
    private readonly entries: Entry[],
    /** Spent once per call, as a real provider spends it per API request. */
    private readonly budget?: RequestBudget,
  ) {}

  private find(ref: RemoteRef): Entry {
    const candidates = this.entries.filter((e) => e.key === ref.key);
    const entry = ref.version ? candidates.find((e) => e.version === ref.version) : candidates.at(-1);
    if (!entry) {
      const version = ref.version ? ` version '${ref.version}'` : '';
      throw new SecretNotFoundError(`remote key '${ref.key}'${version} does not exist`);
    }
    return entry;
  }

  /** One call: the entry's value, from which every property is selected. */
  readWhole(ref: RemoteRef, opts?: CallOptions): Promise<WholeSecret> {
    return this.spend(opts).then(() => buildJsonWhole(encodeText(this.find(ref).value)));
  }

  getSecret(ref: RemoteRef, opts?: CallOptions): Promise<Uint8Array> {
    return this.readWhole(ref, opts).then((whole) => whole.value(ref));
  }

  getSecretMap(ref: RemoteRef, opts?: CallOptions): Promise<Map<string, Uint8Array>> {
    return this.readWhole(ref, opts).then((whole) => whole.map(ref));
  }

  findSecrets(query: FindQuery, opts?: CallOptions): Promise<Map<string, Uint8Array>> {
    return this.spend(opts).then(() => {
      if (query.tags && Object.keys(query.tags).length > 0) {
        throw new InvalidConfigError('the fake provider has no tags; find by name or path instead');
      }
      const pattern = compileNamePattern(query.name?.regexp);
      const result = new Map<string, Uint8Array>();
      for (const entry of this.entries) {
        if (query.path && !entry.key.startsWith(query.path)) continue;
        if (pattern && !pattern.test(entry.key)) continue;
        result.set(entry.key, encodeText(entry.value)); // later entries are newer versions
      }
      return result;
    });
  }

  validate(opts?: CallOptions): Promise<void> {
    return this.spend(opts);
  }

  private spend(opts?: CallOptions): Promise<void> {
    return this.budget ? this.budget.take(opts?.signal) : Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export const fakeProvider: Provider<FakeProviderSpec> = {
  name: 'fake',
  validateConfig(config) {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const entry of config.data) {
      const id = `${entry.key}@${entry.version ?? ''}`;
      if (seen.has(id)) problems.push(`key '${entry.key}' is listed twice with the same version`);
      seen.add(id);
    }
    return problems;
  },
  describeAccess: () => ({ endpoints: [], tokens: [] }),
  connect(config, ctx) {
    return Promise.resolve(new FakeSecretsClient(config.data, ctx.budget));
  },
};
