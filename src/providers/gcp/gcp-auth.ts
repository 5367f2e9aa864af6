/**
 * Credentials for the Secret Manager client, read once per connect: a service-account JSON key
 * (signed locally into self-signed JWTs by the SDK; no token endpoint is called) or a workload
 * identity token source that re-exchanges the ServiceAccount token only when the access token
 * nears expiry.
 */
import { googleAuthLibrary } from 'google-gax';
import type { GcpProviderSpec } from '../../api/providers/gcp.js';
import type { StoreContext } from '../provider.js';
import { InvalidConfigError, UnavailableError } from '../provider-errors.js';
import {
  type AccessToken,
  exchangeStsToken,
  type FetchFn,
  impersonateServiceAccount,
  type WorkloadIdentityConfig,
} from './gcp-sts.js';

/** The ServiceAccount token is used once, for one exchange: the TokenRequest minimum lifetime. */
const SERVICE_ACCOUNT_TOKEN_SECONDS = 600;

/**
 * The audiences of the ServiceAccount token: `serviceAccountRef.audiences`, else what the STS
 * audience implies — a Workload Identity Federation provider accepts "https:" + its resource name
 * by default, GKE's identity namespace accepts the namespace ("PROJECT.svc.id.goog"). Empty when
 * neither applies (the tenant policy then refuses the store: a token without an audience is one
 * the Kubernetes API server accepts).
 */
export function buildTokenAudiences(config: Pick<WorkloadIdentityConfig, 'serviceAccountRef' | 'audience'>): string[] {
  if (config.serviceAccountRef.audiences?.length) return config.serviceAccountRef.audiences;
  if (config.audience.startsWith('//iam.googleapis.com/')) return [`https:${config.audience}`];
  const namespace = /^identitynamespace:([^:]+):/.exec(config.audience)?.[1];
  return namespace ? [namespace] : [];
}

/** Refresh this long before expiry, so no call starts with a token about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** A token exchange started by the SDK (not by one of our calls) gives up after this long. */
const EXCHANGE_TIMEOUT_MS = 30_000;

export interface ServiceAccountKey {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  universe_domain?: string;
}

/** Parses a service-account JSON key; messages name the Secret, never its content. */
export function parseServiceAccountKey(text: string, where: string): ServiceAccountKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidConfigError(`${where} is not JSON; it must hold a service-account JSON key`);
  }
  const key = parsed as Partial<ServiceAccountKey> | null;
  if (key?.type !== 'service_account' || typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new InvalidConfigError(`${where} is not a service-account JSON key (type "service_account" with client_email and private_key)`);
  }
  return key as ServiceAccountKey;
}

export async function readServiceAccountKey(
  ref: NonNullable<GcpProviderSpec['auth']['secretRef']>['secretAccessKeySecretRef'],
  ctx: StoreContext,
): Promise<ServiceAccountKey> {
  const text = await ctx.credentials.readSecretKey(ref);
  ctx.scrubber.add(text);
  const key = parseServiceAccountKey(text, `key '${ref.key}' of Secret '${ref.name}'`);
  ctx.scrubber.add(key.private_key);
  return key;
}

/**
 * A Google access token obtained from a Kubernetes ServiceAccount token. Cached until it nears
 * expiry; concurrent refreshes share one exchange; each caller waits no longer than its own signal.
 */
export class WorkloadIdentityTokenSource {
  private current?: AccessToken;
  private inflight?: Promise<AccessToken>;

  constructor(
    private readonly config: WorkloadIdentityConfig,
    private readonly ctx: Pick<StoreContext, 'credentials' | 'scrubber'>,
    private readonly deps: { fetchFn?: FetchFn; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  async token(signal: AbortSignal): Promise<AccessToken> {
    if (this.current && this.current.expiresAt - REFRESH_MARGIN_MS > this.now()) return this.current;
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = undefined;
    });
    return raceSignal(this.inflight, signal);
  }

  private async refresh(): Promise<AccessToken> {
    const signal = AbortSignal.timeout(EXCHANGE_TIMEOUT_MS);
    const sa = this.config.serviceAccountRef;
    const subject = await this.ctx.credentials.requestServiceAccountToken({
      name: sa.name,
      namespace: sa.namespace,
      audiences: buildTokenAudiences(this.config),
      expirationSeconds: SERVICE_ACCOUNT_TOKEN_SECONDS,
    });
    this.ctx.scrubber.add(subject.token);
    const opts = { signal, fetchFn: this.deps.fetchFn, now: this.deps.now };
    let token = await exchangeStsToken(this.config, subject.token, opts);
    this.ctx.scrubber.add(token.token);
    const email = this.config.serviceAccountEmail;
    if (email) {
      token = await impersonateServiceAccount({ ...this.config, serviceAccountEmail: email }, token, opts);
      this.ctx.scrubber.add(token.token);
    }
    this.current = token;
    return token;
  }
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new UnavailableError('GCP workload identity: token exchange aborted (deadline)'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new UnavailableError('GCP workload identity: token exchange aborted (deadline)'));
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** An SDK auth client that serves the token source's tokens (the SDK calls it for each request). */
export function buildWorkloadIdentityAuthClient(source: WorkloadIdentityTokenSource): googleAuthLibrary.OAuth2Client {
  const client = new googleAuthLibrary.OAuth2Client({ eagerRefreshThresholdMillis: REFRESH_MARGIN_MS });
  client.refreshHandler = async () => {
    const token = await source.token(AbortSignal.timeout(EXCHANGE_TIMEOUT_MS));
    return { access_token: token.token, expiry_date: token.expiresAt };
  };
  return client;
}
