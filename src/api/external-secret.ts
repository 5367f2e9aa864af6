import { z } from 'zod';
import { Condition, Duration, LabelSelector, ResourceName } from './common-schemas.js';

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

export const DecodingStrategy = z.enum(['None', 'Base64', 'Base64URL', 'Auto']).meta({
  description:
    'Decode the values read: None (default) keeps them as they are; Base64 and Base64URL decode them (a value that is ' +
    'not valid, padded base64 is InvalidSpec); Auto decodes a value that is valid Base64, else Base64URL, else keeps it.',
});
export type DecodingStrategy = z.infer<typeof DecodingStrategy>;

export const ConversionStrategy = z.enum(['Default', 'Unicode']).meta({
  description:
    'Rename keys a Secret cannot hold, when the entry has no rewrite: Default replaces each character other than ' +
    'letters, digits, "-", "." and "_" with "_" ("team/db" → "team_db"); Unicode with "_U<hex code>_" ("team_U002f_db"). ' +
    'Without it such keys are InvalidSpec.',
});
export type ConversionStrategy = z.infer<typeof ConversionStrategy>;

export const MetadataPolicy = z.enum(['None', 'Fetch']).meta({
  description:
    "What is read: None (default) the secret's value; Fetch its metadata instead, as External Secrets Operator does: " +
    'AWS Secrets Manager and Azure Key Vault tags, Vault KV v2 custom_metadata, GCP labels and annotations. The value is the metadata as a JSON object (extract: one key ' +
    'per entry), or with `property` the one entry of that name.',
});
export type MetadataPolicy = z.infer<typeof MetadataPolicy>;

export const RemoteRef = z.object({
  key: z.string().min(1).meta({ description: 'The key (name or path) of the secret in the provider.' }),
  property: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'A field of a JSON value; dots select nested fields ("db.password").' }),
  version: z.string().min(1).optional().meta({ description: 'The provider version to read; default the current one.' }),
  decodingStrategy: DecodingStrategy.optional(),
  metadataPolicy: MetadataPolicy.optional(),
});
export type RemoteRef = z.infer<typeof RemoteRef>;

export const ExtractRef = RemoteRef.extend({ conversionStrategy: ConversionStrategy.optional() });

export const DataItem = z.object({
  secretKey: z
    .string()
    .min(1)
    .max(253)
    .regex(SECRET_KEY)
    .meta({ description: 'The key in the Kubernetes Secret.' }),
  remoteRef: RemoteRef,
});
export type DataItem = z.infer<typeof DataItem>;

export const FindSpec = z
  .object({
    name: z
      .object({ regexp: z.string().min(1).meta({ description: 'A regular expression the remote key must match.' }) })
      .optional(),
    tags: z.record(z.string(), z.string()).optional().meta({ description: 'Tags the remote secret must carry.' }),
    path: z.string().optional().meta({ description: 'A prefix the remote key must start with.' }),
    decodingStrategy: DecodingStrategy.optional(),
    conversionStrategy: ConversionStrategy.optional(),
  })
  .meta({ description: 'Select several remote secrets; each becomes a key named after it.', minProperties: 1 });

export const RewriteMerge = z
  .object({
    into: z.string().min(1).max(253).regex(SECRET_KEY).optional().meta({ description: 'The key that receives the merged JSON (strategy JSON; required there).' }),
    priority: z.array(z.string().min(1)).optional().meta({
      description: 'Keys merged last, in this order, so their fields win a conflict; the other keys are merged first, in key order.',
    }),
    priorityPolicy: z.enum(['Strict', 'IgnoreNotFound']).optional().meta({
      description: 'Strict (default): a priority key that is missing fails the sync; IgnoreNotFound skips it.',
    }),
    conflictPolicy: z.enum(['Error', 'Ignore']).optional().meta({
      description: 'Error (default): two values with the same field fail the sync; Ignore: the later one (in merge order) wins.',
    }),
    strategy: z.enum(['Extract', 'JSON']).optional().meta({
      description:
        'Extract (default): the merged fields become the keys (strings as they are, other values as JSON). ' +
        'JSON: the keys stay, and `into` holds the merged object as JSON.',
    }),
  })
  .meta({
    description: 'Merge the JSON objects held by the keys so far into one object, as External Secrets Operator does.',
    'x-kubernetes-validations': [
      { rule: "!has(self.strategy) || self.strategy != 'JSON' || has(self.into)", message: 'merge strategy JSON needs into' },
    ],
  });
export type RewriteMerge = z.infer<typeof RewriteMerge>;

export const Rewrite = z
  .object({
    regexp: z
      .object({
        source: z.string().min(1).meta({ description: 'A regular expression matched against each key.' }),
        target: z.string().meta({ description: 'The replacement; $1 refers to a capture group.' }),
      })
      .optional(),
    merge: RewriteMerge.optional(),
  })
  .meta({
    'x-kubernetes-validations': [{ rule: 'has(self.regexp) != has(self.merge)', message: 'each rewrite needs exactly one of regexp or merge' }],
  });
export type Rewrite = z.infer<typeof Rewrite>;

export const DataFromItem = z
  .object({
    extract: ExtractRef.optional().meta({ description: 'Expand a JSON object into one key per field.' }),
    find: FindSpec.optional(),
    rewrite: z.array(Rewrite).optional().meta({ description: 'Rename the keys this entry produces (regexp), or merge their JSON values (merge), in order.' }),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: 'has(self.extract) != has(self.find)', message: 'each dataFrom entry needs exactly one of extract or find' },
    ],
  });
export type DataFromItem = z.infer<typeof DataFromItem>;

export const Template = z
  .object({
    type: z.string().optional().meta({ description: 'The Secret type (default Opaque).' }),
    metadata: z
      .object({
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .optional()
      .meta({ description: 'Labels and annotations to put on the Secret.' }),
    data: z
      .record(z.string().regex(SECRET_KEY), z.string())
      .optional()
      .meta({
        description:
          'Keys rendered from a Mustache template such as "postgres://{{ user }}:{{ password }}@db". ' +
          'Templates see only the fetched data and run no code.',
      }),
    mergePolicy: z
      .enum(['Replace', 'Merge'])
      .optional()
      .meta({ description: 'Replace: only templated keys. Merge (default): fetched keys plus templated keys.' }),
  })
  .meta({ description: 'How the Secret is rendered from the fetched data.' });
export type Template = z.infer<typeof Template>;

export const CreationPolicy = z.enum(['Owner', 'Orphan', 'Merge', 'None']);
export const DeletionPolicy = z.enum(['Retain', 'Delete', 'Merge']);

export const Delivery = z.enum(['Secret', 'Files']);

export const FilesDelivery = z
  .object({
    consumers: z
      .object({
        serviceAccounts: z
          .array(ResourceName)
          .min(1)
          .meta({ description: 'ServiceAccounts (of this namespace) whose pods may receive the files. Nobody else may, even in the namespace.' }),
      })
      .meta({ description: 'Who may receive the files.' }),
  })
  .meta({ description: 'Delivery as files in pods (delivery Files).' });
export type FilesDelivery = z.infer<typeof FilesDelivery>;

export const Target = z
  .object({
    name: ResourceName.optional().meta({ description: 'The Secret to write (default: the ExternalSecret name).' }),
    creationPolicy: CreationPolicy.optional().meta({
      description:
        'Owner (default): create the Secret, owned by the ExternalSecret and deleted with it. ' +
        'Orphan: create it, leave it when the ExternalSecret is deleted. Merge: add our keys to an existing ' +
        'Secret, never removing keys others wrote. None: write nothing (validate only).',
    }),
    deletionPolicy: DeletionPolicy.optional().meta({
      description:
        'What to do when the remote secret is gone. Retain (default): keep the Secret. Delete: delete the ' +
        'Secret (when Lockstep created it). Merge: remove only our keys.',
    }),
    immutable: z.boolean().optional().meta({ description: 'Write the Secret as immutable.' }),
    template: Template.optional(),
    delivery: Delivery.optional().meta({
      description:
        'Secret (default): write a Kubernetes Secret. Files: write no Secret; pods that opt in with the ' +
        'lockstep.dev/inject label and annotation receive the keys as files on an in-memory volume, from the operator.',
    }),
    files: FilesDelivery.optional(),
  })
  .meta({
    description: 'The Kubernetes Secret that Lockstep writes.',
    'x-kubernetes-validations': [
      {
        rule: "!has(self.deletionPolicy) || self.deletionPolicy != 'Delete' || !has(self.creationPolicy) || self.creationPolicy in ['Owner', 'Orphan']",
        message: 'deletionPolicy Delete requires creationPolicy Owner or Orphan',
      },
      {
        rule: "!has(self.deletionPolicy) || self.deletionPolicy != 'Merge' || (has(self.creationPolicy) && self.creationPolicy == 'Merge')",
        message: 'deletionPolicy Merge requires creationPolicy Merge',
      },
      {
        rule: "!has(self.delivery) || self.delivery != 'Files' || (has(self.files) && !has(self.name) && !has(self.creationPolicy) && !has(self.deletionPolicy) && !has(self.immutable))",
        message: 'delivery Files writes no Secret: set files.consumers, and leave out name, creationPolicy, deletionPolicy and immutable',
      },
      {
        rule: "!has(self.files) || (has(self.delivery) && self.delivery == 'Files')",
        message: 'files is used only with delivery Files',
      },
    ],
  });
export type Target = z.infer<typeof Target>;

export const StoreRef = z.object({
  name: ResourceName.meta({ description: 'The name of the SecretStore or ClusterSecretStore.' }),
  kind: z
    .enum(['SecretStore', 'ClusterSecretStore'])
    .optional()
    .meta({ description: 'SecretStore (default, same namespace) or ClusterSecretStore.' }),
});

export const RefreshPolicy = z.enum(['Periodic', 'OnChange', 'CreatedOnce']);

export const WorkloadKind = z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout']);
export type WorkloadKind = z.infer<typeof WorkloadKind>;

export const RolloutTarget = z
  .object({
    kind: WorkloadKind.meta({ description: 'Deployment, StatefulSet, DaemonSet, or Rollout (Argo Rollouts).' }),
    name: ResourceName.optional().meta({ description: 'One workload by name.' }),
    selector: LabelSelector.optional().meta({ description: 'Every workload of this kind whose labels match.' }),
  })
  .meta({
    description: 'Workloads in the same namespace to restart when the Secret really changes.',
    'x-kubernetes-validations': [{ rule: 'has(self.name) != has(self.selector)', message: 'set exactly one of name or selector' }],
  });
export type RolloutTarget = z.infer<typeof RolloutTarget>;

export const RolloutSpec = z
  .object({
    targets: z.array(RolloutTarget).optional().meta({
      description:
        'Workloads to restart on rotation, besides those that opt in with the lockstep.dev/restart-on annotation. ' +
        'A workload whose pod template reads only some keys of the Secret restarts only when one of those changed.',
    }),
  })
  .meta({ description: 'Rolling restarts of the workloads that consume the Secret when its content changes.' });

export const ExternalSecretSpec = z
  .object({
    secretStoreRef: StoreRef.meta({ description: 'The store to read from.' }),
    refreshInterval: Duration.optional().meta({
      description: 'How often to re-read the provider (default: the store\'s, else 1h). "0" reads once.',
    }),
    refreshPolicy: RefreshPolicy.optional().meta({
      description:
        'Periodic (default): refresh every refreshInterval. OnChange: only when the spec changes. ' +
        'CreatedOnce: only until the Secret exists.',
    }),
    target: Target.optional(),
    data: z.array(DataItem).optional().meta({ description: 'Keys read one by one from the provider.' }),
    dataFrom: z.array(DataFromItem).optional().meta({ description: 'Keys read in bulk: extract or find.' }),
    rollout: RolloutSpec.optional(),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '(has(self.data) && size(self.data) > 0) || (has(self.dataFrom) && size(self.dataFrom) > 0)',
        message: 'set at least one entry in data or dataFrom',
      },
    ],
  });
export type ExternalSecretSpec = z.infer<typeof ExternalSecretSpec>;

export const ExternalSecretStatus = z.object({
  observedGeneration: z.number().int().optional().meta({ description: 'The metadata.generation this status describes.' }),
  conditions: z.array(Condition).optional(),
  refreshTime: z.string().optional().meta({
    description:
      'When the values were first synced, or last read and found different. An unchanged refresh does not move it ' +
      "(nothing is written then); the store's status.refresh says when its ExternalSecrets were last read.",
  }),
  syncedResourceVersion: z.string().optional().meta({ description: 'The metadata.generation last synced.' }),
  binding: z.object({ name: z.string() }).optional().meta({ description: 'The Secret written.' }),
  filesHash: z
    .string()
    .optional()
    .meta({ description: 'delivery Files: keyed hash of the files last read (no values); it changes when their content does.' }),
  lastRotationTime: z.string().optional().meta({ description: 'When the Secret content last changed (not the first sync).' }),
  pendingRollout: z
    .object({
      hash: z.string().meta({ description: 'Keyed hash of the content the restarts are for.' }),
      since: z.string().meta({ description: 'When the oldest change still owed was seen.' }),
      workloads: z.array(z.string()).meta({ description: 'Workloads still to restart, as Kind/name.' }),
      owed: z
        .array(z.object({ workload: z.string(), since: z.string() }))
        .optional()
        .meta({ description: 'When each workload first became owed its restart; its coalescing window starts then.' }),
    })
    .optional()
    .meta({ description: 'Restarts owed for the last rotation; kept here so they survive an operator restart.' }),
  lastRollout: z
    .object({
      time: z.string(),
      workloads: z.array(z.string()).meta({ description: 'Workloads restarted, as Kind/name.' }),
    })
    .optional()
    .meta({ description: 'The workloads restarted for the last rotation.' }),
});
export type ExternalSecretStatus = z.infer<typeof ExternalSecretStatus>;
