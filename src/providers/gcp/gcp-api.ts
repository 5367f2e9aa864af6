/**
 * The two Secret Manager calls Lockstep makes, over the SDK's gRPC client. Each call gets a gax
 * deadline, no gax retries (the operator retries with backoff) and is cancelled when the caller's
 * AbortSignal fires. Errors are classified here, once.
 */
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { type CallOptions as GaxCallOptions, GoogleAuth, grpc, routingHeader } from 'google-gax';
import type { GcpProviderSpec } from '../../api/providers/gcp.js';
import { UnavailableError } from '../provider-errors.js';
import { mapGcpError } from './gcp-errors.js';
import type { ListedSecret } from './gcp-names.js';
import type { googleAuthLibrary } from 'google-gax';
import type { ServiceAccountKey } from './gcp-auth.js';
import { buildTrustedRoots } from './gcp-tls.js';
import type { RequestBudget } from '../provider.js';
import type { StoreNetwork } from '../store-network.js';
import { checkedGrpcTarget } from './gcp-checked-resolver.js';

/** The longest a single call may take even if the caller's signal never fires. */
export const CALL_TIMEOUT_MS = 30_000;
/**
 * While the server is unreachable the channel retries connecting in the background, backing off
 * up to this (gRPC's default is 120 s, which would keep failing calls for minutes after an outage).
 */
const MAX_RECONNECT_BACKOFF_MS = 2_000;
/** How long a call waits for a connection before it is tried anyway (and fails fast if there is none). */
const CONNECT_WAIT_MS = 3_000;
const DEFAULT_ENDPOINT = { host: 'secretmanager.googleapis.com', port: 443 };
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface SecretMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface SecretPage {
  secrets: ListedSecret[];
  nextPageToken?: string;
}

/** The port GcpSecretsClient uses; `what` names the key in error messages. */
export interface SecretManagerApi {
  accessSecretVersion(name: string, what: string, signal: AbortSignal): Promise<Uint8Array>;
  listSecrets(req: { parent: string; filter?: string; pageSize: number; pageToken?: string }, signal: AbortSignal): Promise<SecretPage>;
  /** A secret's labels and annotations (GetSecret: secretmanager.secrets.get). */
  getSecretMetadata(name: string, what: string, signal: AbortSignal): Promise<SecretMetadata>;
  close(): Promise<void>;
}

export type GcpCredentials = { key: ServiceAccountKey } | { authClient: googleAuthLibrary.OAuth2Client };

type CancellablePromise<T> = Promise<T> & { cancel(): void };
type InnerCall<Req, Res> = (request: Req, options: GaxCallOptions) => CancellablePromise<Res>;

interface AccessResponse {
  payload?: { data?: Uint8Array | string | null } | null;
}
interface SecretResponse {
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
}
interface ListResponse {
  secrets?: { name?: string | null; labels?: Record<string, string> | null }[] | null;
  nextPageToken?: string | null;
}

export function parseEndpoint(endpoint: string | undefined): { host: string; port: number } {
  if (!endpoint) return DEFAULT_ENDPOINT;
  const at = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}

function credentialOptions(creds: GcpCredentials): { credentials: ServiceAccountKey } | { authClient: googleAuthLibrary.OAuth2Client } {
  return 'key' in creds ? { credentials: creds.key } : { authClient: creds.authClient };
}

/**
 * TLS to the store's roots plus per-call credentials. The SDK adds no call credentials to channel
 * credentials it is given, so they are combined here exactly as the SDK does for its default TLS.
 */
function buildChannelCredentials(roots: string, auth: GoogleAuth): grpc.ChannelCredentials {
  const callCredentials = grpc.credentials.createFromGoogleCredential({
    getRequestHeaders: async (url?: string) => {
      const client = await auth.getClient();
      const headers = await client.getRequestHeaders(url);
      return Object.fromEntries(headers.entries());
    },
  });
  return grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(roots)), callCredentials);
}

/**
 * The SDK client. A SecretStore's custom endpoint is resolved by a checked resolver (see
 * gcp-checked-resolver.ts), so its channel dials only addresses the store may reach.
 */
export function buildSdkClient(config: GcpProviderSpec, creds: GcpCredentials, network?: StoreNetwork): SecretManagerServiceClient {
  const { host, port } = parseEndpoint(config.endpoint);
  const checked = network?.policy && config.endpoint;
  const base = {
    apiEndpoint: checked && network.policy ? checkedGrpcTarget(network.policy, host, config.insecure === true) : host,
    port,
    projectId: config.projectID,
    universeDomain: 'googleapis.com',
    fallback: false,
    'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
  };
  if (config.insecure) {
    return new SecretManagerServiceClient({ ...base, ...credentialOptions(creds), sslCreds: grpc.credentials.createInsecure() });
  }
  const roots = buildTrustedRoots(config.caBundle);
  if (roots === undefined) return new SecretManagerServiceClient({ ...base, ...credentialOptions(creds) });
  // The SDK signs self-signed JWTs with this scope for a non-default endpoint; keep it the same.
  const auth = new GoogleAuth({ ...credentialOptions(creds), scopes: [CLOUD_PLATFORM_SCOPE], projectId: config.projectID });
  return new SecretManagerServiceClient({ ...base, auth, sslCreds: buildChannelCredentials(roots, auth) });
}

/**
 * Waits, boundedly, for the channel to connect: a call made just after the server came back would
 * otherwise fail on the channel's reconnect backoff. Never fails: the call itself reports errors.
 * (Not grpc's Client#waitForReady: after the channel closes it asks the channel to connect again.)
 */
function waitForConnection(channel: ReturnType<grpc.Client['getChannel']>, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + CONNECT_WAIT_MS;
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      finished = true;
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const check = (tryToConnect: boolean) => {
      if (finished) return;
      const state = channel.getConnectivityState(tryToConnect);
      if (state === grpc.connectivityState.READY || state === grpc.connectivityState.SHUTDOWN) return finish();
      try {
        channel.watchConnectivityState(state, deadline, (err?: Error) => (err ? finish() : check(false)));
      } catch {
        finish(); // closed meanwhile
      }
    };
    signal.addEventListener('abort', finish, { once: true });
    check(true);
  });
}

export class SdkSecretManagerApi implements SecretManagerApi {
  constructor(
    private readonly sdk: SecretManagerServiceClient,
    /** One token per RPC (a page of ListSecrets is one). */
    private readonly budget?: RequestBudget,
  ) {}

  private async call<Req, Res>(method: string, request: Req, routing: Record<string, string>, what: string, signal: AbortSignal): Promise<Res> {
    if (signal.aborted) throw new UnavailableError(`GCP Secret Manager: ${what}: aborted before the call (deadline)`);
    try {
      await this.budget?.take(signal);
      await this.sdk.initialize();
      await waitForConnection(((await this.sdk.secretManagerServiceStub) as unknown as grpc.Client).getChannel(), signal);
      if (signal.aborted) throw new UnavailableError(`GCP Secret Manager: ${what}: CANCELLED: the deadline passed while connecting`);
      const inner = this.sdk.innerApiCalls[method] as InnerCall<Req, Res>;
      const options: GaxCallOptions = {
        timeout: CALL_TIMEOUT_MS,
        retry: null,
        autoPaginate: false,
        otherArgs: { headers: { 'x-goog-request-params': routingHeader.fromParams(routing) } },
      };
      const pending = inner(request, options);
      const cancel = () => pending.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      try {
        return await pending;
      } finally {
        signal.removeEventListener('abort', cancel);
      }
    } catch (err) {
      throw mapGcpError(err, what);
    }
  }

  async accessSecretVersion(name: string, what: string, signal: AbortSignal): Promise<Uint8Array> {
    const [response] = await this.call<{ name: string }, [AccessResponse]>('accessSecretVersion', { name }, { name }, what, signal);
    const data = response.payload?.data;
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    return data ?? new Uint8Array();
  }

  async listSecrets(req: { parent: string; filter?: string; pageSize: number; pageToken?: string }, signal: AbortSignal): Promise<SecretPage> {
    const what = `listing secrets of '${req.parent}'`;
    const [, , raw] = await this.call<typeof req, [unknown, unknown, ListResponse]>('listSecrets', req, { parent: req.parent }, what, signal);
    const secrets = (raw.secrets ?? []).map((s) => ({ name: s.name ?? '', labels: s.labels ?? {} }));
    return { secrets, nextPageToken: raw.nextPageToken || undefined };
  }

  async getSecretMetadata(name: string, what: string, signal: AbortSignal): Promise<SecretMetadata> {
    const [secret] = await this.call<{ name: string }, [SecretResponse]>('getSecret', { name }, { name }, what, signal);
    return { labels: { ...secret.labels }, annotations: { ...secret.annotations } };
  }

  close(): Promise<void> {
    return this.sdk.close();
  }
}
