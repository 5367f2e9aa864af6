import { z } from 'zod';
import { Condition, Duration, LabelSelector, NamespaceName } from './common-schemas.js';
import { AwsProviderSpec } from './providers/aws.js';
import { VaultProviderSpec } from './providers/vault.js';
import { AzureProviderSpec } from './providers/azure.js';
import { GcpProviderSpec } from './providers/gcp.js';

export const FakeProviderSpec = z
  .object({
    data: z
      .array(
        z.object({
          key: z.string().min(1).meta({ description: 'The remote key.' }),
          value: z.string().meta({ description: 'The value; a JSON object can be read by property or extracted.' }),
          version: z.string().optional().meta({ description: 'A version label; matched by remoteRef.version.' }),
        }),
      )
      .meta({ description: 'The secrets this store serves.' }),
  })
  .meta({ description: 'An in-memory provider for demos and tests: serves the values listed here.' });
export type FakeProviderSpec = z.infer<typeof FakeProviderSpec>;

/** Exactly one provider key is set; CRDs express it with min/maxProperties, not a union. */
export const ProviderSpec = z
  .object({
    fake: FakeProviderSpec.optional(),
    aws: AwsProviderSpec.optional().meta({ description: 'AWS Secrets Manager.' }),
    vault: VaultProviderSpec.optional().meta({ description: 'HashiCorp Vault or OpenBao (KV v1/v2).' }),
    azure: AzureProviderSpec.optional().meta({ description: 'Azure Key Vault.' }),
    gcp: GcpProviderSpec.optional().meta({ description: 'Google Cloud Secret Manager.' }),
  })
  .meta({
    description: 'The secret manager this store reads from. Set exactly one provider.',
    minProperties: 1,
    maxProperties: 1,
  });
export type ProviderSpec = z.infer<typeof ProviderSpec>;

export const RateLimit = z
  .object({
    qps: z.number().positive().meta({ description: 'Sustained provider requests per second.' }),
    burst: z.number().int().positive().meta({ description: 'Requests allowed in a burst.' }),
  })
  .meta({ description: "The store's provider API budget, shared by every ExternalSecret that uses it." });

export const ClusterStoreCondition = z
  .object({
    namespaces: z.array(NamespaceName).optional().meta({ description: 'Namespaces allowed by name.' }),
    namespaceSelector: LabelSelector.optional().meta({ description: 'Namespaces allowed by label.' }),
    namespaceRegexes: z
      .array(z.string().min(1))
      .optional()
      .meta({
        description:
          'Namespaces allowed by regular expression (RE2, linear time; unanchored: write ^team-.*$ for a whole name). ' +
          'A pattern that does not compile allows nothing.',
      }),
  })
  .meta({
    description: 'A rule naming namespaces allowed to use the store.',
    minProperties: 1,
  });
export type ClusterStoreCondition = z.infer<typeof ClusterStoreCondition>;

const storeSpecShape = {
  provider: ProviderSpec,
  refreshInterval: Duration.optional().meta({
    description: 'Default refresh interval for ExternalSecrets using this store (default 1h).',
  }),
  rateLimit: RateLimit.optional(),
};

export const SecretStoreSpec = z.object(storeSpecShape);
export type SecretStoreSpec = z.infer<typeof SecretStoreSpec>;

export const ClusterSecretStoreSpec = z.object({
  ...storeSpecShape,
  conditions: z
    .array(ClusterStoreCondition)
    .optional()
    .meta({ description: 'Namespaces allowed to use this store. A namespace matching any entry is allowed; none means all.' }),
});
export type ClusterSecretStoreSpec = z.infer<typeof ClusterSecretStoreSpec>;

export const StoreRefreshStatus = z
  .object({
    time: z.string().meta({
      description: 'Every ExternalSecret of the round that is Ready had its values read from the provider at or after this time.',
    }),
    externalSecrets: z.number().int().meta({ description: 'ExternalSecrets in the round.' }),
    changed: z.number().int().meta({ description: 'Of them, those whose values had changed (their Secret was written).' }),
    failed: z.number().int().meta({ description: 'Of them, those whose refresh failed (see their Ready condition).' }),
  })
  .meta({
    description:
      "The store's last complete refresh round. An unchanged refresh writes nothing to the ExternalSecrets, so this is where freshness shows.",
  });
export type StoreRefreshStatus = z.infer<typeof StoreRefreshStatus>;

export const SecretStoreStatus = z.object({
  observedGeneration: z.number().int().optional().meta({ description: 'The metadata.generation this status describes.' }),
  conditions: z.array(Condition).optional(),
  refresh: StoreRefreshStatus.optional(),
});
export type SecretStoreStatus = z.infer<typeof SecretStoreStatus>;
