// What the test process tells the Secret Manager test peer's child process: its config file, and
// the messages exchanged over the Node IPC channel (faults, stats, readiness). No network control API.
import type { JsonWebKey } from 'node:crypto';

/** A Google service account the peer trusts: it verifies self-signed JWTs against this public key. */
export interface TrustedServiceAccount {
  email: string;
  /** SPKI PEM of the key pair whose private half is in the service-account JSON key. */
  publicKeyPem: string;
  /** The JSON key's private_key_id; a JWT whose `kid` names another key is rejected. */
  keyId?: string;
  /** Whether it may list secrets (secretmanager.secrets.list); reading values is always allowed. */
  canList?: boolean;
}

/** Workload Identity Federation as the peer plays it (see federation.ts). */
export interface FederationConfig {
  /** The STS `audience`: //iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER */
  providerAudience: string;
  /** The OIDC issuer of the Kubernetes ServiceAccount tokens (the apiserver's --service-account-issuer). */
  issuer: string;
  /** The issuer's public keys, as the apiserver publishes them at /openid/v1/jwks. */
  jwks: JsonWebKey[];
  /** Audiences a subject token may carry (Google's default: "https:" + providerAudience). */
  allowedAudiences: string[];
  /** Federated subjects (system:serviceaccount:NS:NAME) granted read access (secretAccessor, list) directly. */
  readers: string[];
  /** Service account email → federated subjects that may impersonate it (roles/iam.workloadIdentityUser). */
  impersonation: Record<string, string[]>;
}

export interface GcpPeerConfig {
  port: number;
  certFile: string;
  keyFile: string;
  projectId: string;
  projectNumber: string;
  serviceAccounts: TrustedServiceAccount[];
  /** A bearer token for the fixture's own admin channel (creates, updates, disables secrets). */
  adminToken: string;
  /** The most secrets one ListSecrets page holds, whatever page_size asks (AIP-158 allows fewer). */
  maxPageSize: number;
  /** HMAC key of the access tokens the peer mints (STS, IAM Credentials); kept across restarts. */
  tokenKey: string;
  /** STS and IAM Credentials over HTTPS on this port, when set. */
  federation?: FederationConfig & { port: number };
}

export interface Fault {
  /** Only calls of these methods (e.g. 'AccessSecretVersion'); all methods when absent. */
  methods?: string[];
  /** Wait this long before answering (a cancelled call is dropped). */
  delayMs?: number;
  /** Then answer this gRPC status instead of serving the call. */
  code?: number;
  /** How many calls the fault applies to. */
  count: number;
}

export interface PeerStats {
  /** Authenticated calls by method. */
  calls: Record<string, number>;
  /** Calls answered UNAUTHENTICATED. */
  unauthenticated: number;
  /** The `filter` of every ListSecrets call, in order ('' when none). */
  listFilters: string[];
  /** Successful STS token exchanges and IAM Credentials impersonations, and refused ones. */
  stsExchanges: number;
  impersonations: number;
  federationRejected: number;
}

export type Command = { op: 'fault'; fault: Fault } | { op: 'clearFaults' } | { op: 'stats' } | { op: 'resetStats' };
/** Every command carries an id; the peer answers each with a reply of the same id once it took effect. */
export type ToPeer = Command & { id: number };
export type FromPeer = { op: 'ready' } | { op: 'reply'; id: number; stats: PeerStats };
