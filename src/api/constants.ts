/** Names that are part of Lockstep's API. Never rename one in place: add a new one. */
export const GROUP = 'lockstep.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const FIELD_MANAGER = 'lockstep';
export const CONTROLLER_NAME = 'lockstep.dev/controller';

export const Labels = {
  /** On every Secret Lockstep writes; the Secret informer watches only these. */
  managed: 'lockstep.dev/managed',
  /** On a pod: "true" sends it to the injection webhook (the only pods it ever sees). */
  inject: 'lockstep.dev/inject',
} as const;

export const Annotations = {
  /** Keyed hash (HMAC) of the data Lockstep rendered into the Secret. */
  dataHash: 'lockstep.dev/data-hash',
  /** namespace/name of the ExternalSecret that writes this Secret. */
  owner: 'lockstep.dev/external-secret',
  /** Set to a new value to refresh an ExternalSecret at once. */
  forceSync: 'lockstep.dev/force-sync',
  /** On a workload: "auto" (the Secrets its pod template uses) or a comma-separated list of Secret names. */
  restartOn: 'lockstep.dev/restart-on',
  /** On a workload: "true" defers its restarts until removed. */
  restartPaused: 'lockstep.dev/restart-paused',
  /** On a workload: the least time between two restarts (a duration), overriding the global default. */
  restartMinInterval: 'lockstep.dev/restart-min-interval',
  /** On a pod template: which rotation the last restart was for (a keyed hash; idempotent). */
  restartedFor: 'lockstep.dev/restarted-for',
  /** On a pod template: when Lockstep last restarted the workload. */
  restartedAt: 'lockstep.dev/restarted-at',
  /** On a pod (template): comma-separated ExternalSecrets (delivery Files) to deliver as files. */
  inject: 'lockstep.dev/inject',
  /** On a pod (template): "init" (default; files written once, rotation rolls the workload) or "sidecar" (kept fresh). */
  injectMode: 'lockstep.dev/inject-mode',
  /** On a pod (template): where the files are mounted in the app containers (default /var/run/secrets/lockstep). */
  injectPath: 'lockstep.dev/inject-path',
  /** On a pod (template): octal mode of the files (default 0440). */
  injectFileMode: 'lockstep.dev/inject-file-mode',
  /** On a pod (template): user id (uid or uid:gid) the agent runs as and the files belong to (default 65532). */
  injectUser: 'lockstep.dev/inject-user',
  /** On a pod: set by the webhook, what it injected (the agent's container name and mode). */
  injected: 'lockstep.dev/injected',
} as const;

/**
 * Ready is the condition users read. Reconciling and Stalled are kstatus's "abnormal-true"
 * conditions, which Flux, Argo CD and kpt read: present only while work is in progress (a
 * failure that may heal by itself) or stalled (a failure that needs a change to the spec or the
 * provider).
 */
export const ConditionTypes = { ready: 'Ready', reconciling: 'Reconciling', stalled: 'Stalled' } as const;

/** Stable PascalCase reasons of the Ready condition. */
export const Reasons = {
  secretSynced: 'SecretSynced',
  secretSyncError: 'SecretSyncError',
  secretDeleted: 'SecretDeleted',
  storeNotFound: 'StoreNotFound',
  storeNotReady: 'StoreNotReady',
  storeNotAllowed: 'StoreNotAllowed',
  invalidSpec: 'InvalidSpec',
  providerError: 'ProviderError',
  remoteNotFound: 'RemoteSecretNotFound',
  targetConflict: 'TargetConflict',
  secretImmutable: 'SecretImmutable',
  targetMissing: 'TargetSecretMissing',
  storeValid: 'Valid',
  invalidConfig: 'InvalidProviderConfig',
  validationFailed: 'ValidationFailed',
  /** A SecretStore names an endpoint it may not reach (link-local, metadata, the API server, plain http off loopback). */
  endpointNotAllowed: 'EndpointNotAllowed',
  /** A SecretStore asks for the operator's own identity (ambient credentials): only a ClusterSecretStore may. */
  identityNotAllowed: 'IdentityNotAllowed',
  /** A store asks for a ServiceAccount token the Kubernetes API server would accept (its audience, or none). */
  tokenAudienceNotAllowed: 'TokenAudienceNotAllowed',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Event reasons. Events are emitted only on transitions. */
export const EventReasons = {
  synced: 'Synced',
  syncError: 'SyncError',
  deleted: 'SecretDeleted',
  rotated: 'SecretRotated',
  restartTriggered: 'RolloutRestartTriggered',
  restartFailed: 'RolloutRestartFailed',
  restartDeferred: 'RolloutRestartDeferred',
  /** On a pod: its agent wrote new file content (delivery Files, sidecar mode). */
  filesUpdated: 'SecretFilesUpdated',
  /** On a pod: its agent may no longer receive an ExternalSecret's files. */
  filesRefused: 'SecretFilesRefused',
} as const;
