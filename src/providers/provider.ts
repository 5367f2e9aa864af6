/**
 * The provider contract. A `Provider` is stateless and knows one kind of secret manager; it
 * validates a store's config and opens a `SecretsClient` for one store. Clients are cached per
 * store generation by the registry's caller and closed when the store changes or goes away.
 * Every call takes an AbortSignal that carries the deadline.
 */
import type { Logger } from '../observability/logger.js';
import type { ScrubberView } from '../observability/secret-scrubber.js';
import type { StoreNetwork } from './store-network.js';

export interface RemoteRef {
  key: string;
  property?: string;
  version?: string;
  /** Fetch: read the secret's metadata (tags, custom metadata) instead of its value; only providers with `readsMetadata` do. */
  metadataPolicy?: 'None' | 'Fetch';
}

export interface FindQuery {
  name?: { regexp: string };
  tags?: Record<string, string>;
  path?: string;
}

export interface CallOptions {
  signal: AbortSignal;
  /**
   * A result read no longer ago than this may be reused (0 or absent: read now, though an identical
   * read already in flight is still shared). Providers ignore it; the shared read layer applies it.
   */
  maxAgeMs?: number;
  /**
   * When given, the shared read layer adds to it the time each value it returns was asked of the
   * provider (a reused read keeps its own time), so the caller knows how fresh its data is.
   */
  readTimes?: number[];
}

/** What a whole read of a remote key is made for; metrics name the provider call so. */
export type ReadOperation = 'getSecret' | 'getSecretMap';

/**
 * A remote key as one provider call returns it: its value with every property (or, with
 * `metadataPolicy: Fetch`, its metadata). Selecting from it is pure, and its errors name keys and
 * properties, never values.
 */
export interface WholeSecret {
  /** What getSecret(ref) returns, for a ref of this key, version and metadataPolicy. */
  value(ref: RemoteRef): Uint8Array;
  /** What getSecretMap(ref) returns, likewise. */
  map(ref: RemoteRef): Map<string, Uint8Array>;
}

export interface SecretsClient {
  /** The value of one remote key (with `property` and `version` applied). Throws SecretNotFoundError. */
  getSecret(ref: RemoteRef, opts: CallOptions): Promise<Uint8Array>;
  /** A remote key's JSON object expanded into key → value. */
  getSecretMap(ref: RemoteRef, opts: CallOptions): Promise<Map<string, Uint8Array>>;
  /**
   * One provider call that reads a remote key whole (`key`, `version`, `metadataPolicy`; `property`
   * is not looked at), for providers whose API returns every property at once. The shared read
   * layer then reads each key and version once for all its properties and its map. A client that
   * has it answers getSecret(ref) with `(await readWhole(ref)).value(ref)`, getSecretMap with
   * `.map(ref)`: same bytes, same errors. `operation` is what the read is for (its metrics label).
   */
  readWhole?(ref: RemoteRef, opts: CallOptions, operation: ReadOperation): Promise<WholeSecret>;
  /** Every remote key matching the query, by name → value. */
  findSecrets(query: FindQuery, opts: CallOptions): Promise<Map<string, Uint8Array>>;
  /** Checks that the store's config and credentials work (used for the store's Ready condition). */
  validate(opts: CallOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * How a provider reads the credentials its store references. Names resolve in the store's own
 * namespace (a ClusterSecretStore must name one); values are registered with the scrubber.
 */
export interface CredentialSource {
  /** One key of a Secret. Throws InvalidConfigError naming the Secret and key when either is missing. */
  readSecretKey(ref: { name: string; key: string; namespace?: string }): Promise<string>;
  /** A short-lived ServiceAccount token from the TokenRequest API. */
  requestServiceAccountToken(ref: {
    name: string;
    namespace?: string;
    audiences?: string[];
    expirationSeconds?: number;
  }): Promise<{ token: string; expiresAt: number }>;
}

/**
 * The store's `rateLimit`. A provider takes one token before each API call it makes, so a batch
 * of many reads costs one token, like one request against the provider's quota.
 */
export interface RequestBudget {
  take(signal?: AbortSignal): Promise<void>;
}

export interface StoreContext {
  /** Namespace credentials referenced by the store are read from. */
  namespace?: string;
  storeKind: 'SecretStore' | 'ClusterSecretStore';
  storeName: string;
  log: Logger;
  /** Registers the store's credentials and tokens (held while its client lives). */
  scrubber: ScrubberView;
  credentials: CredentialSource;
  /** Absent when the store sets no `rateLimit`. */
  budget?: RequestBudget;
  /**
   * What the client dials through: checked for a SecretStore, Node's own for a ClusterSecretStore.
   * Absent: derived from `storeKind` with a policy that knows no API server address.
   */
  network?: StoreNetwork;
}

/** An endpoint a store's spec chooses. */
export interface ChosenEndpoint {
  /** The spec field, e.g. "spec.provider.vault.server". */
  field: string;
  /** A URL, or "host:port" for gRPC. */
  endpoint: string;
  /** A host:port endpoint used without TLS. */
  plaintext?: boolean;
}

/** A ServiceAccount token the store's auth will request. */
export interface RequestedToken {
  /** The spec field of the serviceAccountRef, e.g. "spec.provider.aws.auth.jwt.serviceAccountRef". */
  field: string;
  /** The audiences that will be asked for (defaults applied); empty means none. */
  audiences: string[];
}

/** What a store's config makes the operator do on its behalf, for the tenant policy. */
export interface StoreAccess {
  endpoints: ChosenEndpoint[];
  /** Set when the auth uses the operator's own identity: the field and what identity it is. */
  ambientIdentity?: { field: string; what: string; instead: string };
  tokens: RequestedToken[];
}

export interface Provider<Config = unknown> {
  /** The key under `spec.provider` that selects this provider (e.g. 'fake', 'aws'). */
  readonly name: string;
  /** Whether its clients honour `metadataPolicy: Fetch`; for other providers such a read is InvalidRef. */
  readonly readsMetadata?: boolean;
  /** Checks semantics the CRD schema cannot; returns human messages naming what to fix. */
  validateConfig(config: Config): string[];
  /** The endpoints, ambient identity and tokens a config asks for (judged by the tenant policy). */
  describeAccess(config: Config): StoreAccess;
  connect(config: Config, ctx: StoreContext): Promise<SecretsClient>;
}
