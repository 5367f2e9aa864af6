/**
 * Workload identity: a Kubernetes ServiceAccount token is exchanged at Google STS (RFC 8693) for
 * a federated access token, optionally traded for a Google service account's token through the
 * IAM Credentials API. Endpoints are explicit so tests and private deployments can point elsewhere.
 */
import type { GcpProviderSpec } from '../../api/providers/gcp.js';
import { AuthError, InvalidConfigError, ProviderError, ThrottledError, UnavailableError } from '../provider-errors.js';

export type WorkloadIdentityConfig = NonNullable<GcpProviderSpec['auth']['workloadIdentity']>;

export const DEFAULT_STS_ENDPOINT = 'https://sts.googleapis.com/v1/token';
export const DEFAULT_IAM_CREDENTIALS_ENDPOINT = 'https://iamcredentials.googleapis.com';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface AccessToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type FetchFn = typeof fetch;

/** Classifies an HTTP failure of STS or IAM Credentials; the body is not echoed (it may hold tokens). */
function httpError(service: string, status: number, code: string): ProviderError {
  const message = `GCP workload identity: ${service} answered HTTP ${status} (${code})`;
  if (status === 400 || status === 401 || status === 403) return new AuthError(message);
  if (status === 404) return new InvalidConfigError(`${message}; check the endpoint and audience`);
  if (status === 429) return new ThrottledError(message);
  return new UnavailableError(message);
}

/** The error code of an OAuth ({ error }) or Google API ({ error: { status } }) error body; never its text. */
async function errorCode(response: Response): Promise<string> {
  const body = (await response.json().catch(() => ({}))) as { error?: unknown };
  if (typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error)) return body.error;
  const status = (body.error as { status?: unknown } | undefined)?.status;
  return typeof status === 'string' && /^[A-Z_]{1,64}$/.test(status) ? status : 'no error code';
}

async function postJson(fetchFn: FetchFn, service: string, url: string, init: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchFn(url, { ...init, method: 'POST', redirect: 'error' });
  } catch (err) {
    throw new UnavailableError(`GCP workload identity: ${service} at ${url} is unreachable`, { cause: err });
  }
  if (!response.ok) {
    throw httpError(service, response.status, await errorCode(response));
  }
  return response.json();
}

function expiresAt(now: number, expiresInSeconds: unknown): number {
  return now + (typeof expiresInSeconds === 'number' && expiresInSeconds > 0 ? expiresInSeconds : 3600) * 1000;
}

/** RFC 8693 token exchange: a Kubernetes ServiceAccount JWT for a federated Google access token. */
export async function exchangeStsToken(
  config: WorkloadIdentityConfig,
  subjectToken: string,
  opts: { signal: AbortSignal; fetchFn?: FetchFn; now?: () => number },
): Promise<AccessToken> {
  const now = (opts.now ?? Date.now)();
  const body = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    audience: config.audience,
    scope: CLOUD_PLATFORM_SCOPE,
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    subject_token: subjectToken,
  });
  const url = config.stsEndpoint ?? DEFAULT_STS_ENDPOINT;
  const json = (await postJson(opts.fetchFn ?? fetch, 'STS', url, { body, signal: opts.signal })) as {
    access_token?: unknown;
    expires_in?: unknown;
  };
  if (typeof json.access_token !== 'string' || json.access_token.length === 0) {
    throw new UnavailableError('GCP workload identity: STS answered without an access_token');
  }
  return { token: json.access_token, expiresAt: expiresAt(now, json.expires_in) };
}

/** IAM Credentials generateAccessToken: the federated token buys a Google service account's token. */
export async function impersonateServiceAccount(
  config: WorkloadIdentityConfig & { serviceAccountEmail: string },
  federated: AccessToken,
  opts: { signal: AbortSignal; fetchFn?: FetchFn },
): Promise<AccessToken> {
  const base = (config.iamCredentialsEndpoint ?? DEFAULT_IAM_CREDENTIALS_ENDPOINT).replace(/\/+$/, '');
  const url = `${base}/v1/projects/-/serviceAccounts/${encodeURIComponent(config.serviceAccountEmail)}:generateAccessToken`;
  const json = (await postJson(opts.fetchFn ?? fetch, 'IAM Credentials', url, {
    headers: { authorization: `Bearer ${federated.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: [CLOUD_PLATFORM_SCOPE], lifetime: '3600s' }),
    signal: opts.signal,
  })) as { accessToken?: unknown; expireTime?: unknown };
  const expireTime = typeof json.expireTime === 'string' ? Date.parse(json.expireTime) : NaN;
  if (typeof json.accessToken !== 'string' || json.accessToken.length === 0 || Number.isNaN(expireTime)) {
    throw new UnavailableError('GCP workload identity: IAM Credentials answered without an accessToken and expireTime');
  }
  return { token: json.accessToken, expiresAt: expireTime };
}
