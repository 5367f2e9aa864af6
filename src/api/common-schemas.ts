/**
 * The zod schemas the API's kinds share. Only the schemas (src/api/schemas.ts, loaded on first
 * use) and the CRD builder import them; what the start path needs is in common.ts, without zod.
 */
import { z } from 'zod';
import { DURATION_PATTERN } from './common.js';

/** A Go-style duration ("1h", "15m", "30s", "1h30m"); "0" disables periodic refresh. */
export const Duration = z
  .string()
  .regex(DURATION_PATTERN)
  .meta({ description: 'A duration such as "1h", "15m", "90s" or "1h30m". "0" means never refresh.' });
export type Duration = z.infer<typeof Duration>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const ResourceName = z
  .string()
  .min(1)
  .max(253)
  .regex(DNS_SUBDOMAIN)
  .meta({ description: 'A Kubernetes object name (lower-case DNS subdomain).' });

export const NamespaceName = z.string().min(1).max(63).regex(DNS_LABEL);

export const LabelSelectorRequirement = z.object({
  key: z.string().min(1),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});

export const LabelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(LabelSelectorRequirement).optional(),
  })
  .meta({ description: 'A standard Kubernetes label selector.' });
export type LabelSelector = z.infer<typeof LabelSelector>;

export const ConditionStatus = z.enum(['True', 'False', 'Unknown']);

export const Condition = z.object({
  type: z.string(),
  status: ConditionStatus,
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof Condition>;

/** A key of a Secret holding a credential. For a ClusterSecretStore `namespace` says where it lives. */
export const SecretKeySelector = z
  .object({
    name: ResourceName.meta({ description: 'The Secret.' }),
    key: z.string().min(1).meta({ description: 'The key within the Secret.' }),
    namespace: NamespaceName.optional().meta({
      description: 'Only for a ClusterSecretStore: the namespace of the Secret. A SecretStore reads its own namespace.',
    }),
  })
  .meta({ description: 'A reference to one key of a Kubernetes Secret.' });
export type SecretKeySelector = z.infer<typeof SecretKeySelector>;

/** A ServiceAccount whose token (from the TokenRequest API) authenticates to a provider. */
export const ServiceAccountSelector = z
  .object({
    name: ResourceName.meta({ description: 'The ServiceAccount.' }),
    namespace: NamespaceName.optional().meta({
      description: 'Only for a ClusterSecretStore: the namespace of the ServiceAccount.',
    }),
    audiences: z.array(z.string().min(1)).optional().meta({ description: 'Audiences of the requested token.' }),
  })
  .meta({ description: 'A ServiceAccount whose short-lived token is used to log in.' });
export type ServiceAccountSelector = z.infer<typeof ServiceAccountSelector>;
