/**
 * Maps Azure SDK errors (Key Vault RestError, @azure/identity errors, aborts) to provider errors,
 * once, at the edge. Messages name the operation and the key, never a value: the service's own
 * message is kept only when it came from an error response of Key Vault or Microsoft Entra.
 */
import {
  AuthError,
  InvalidConfigError,
  InvalidRefError,
  isNetworkErrorCode,
  isProviderError,
  type ProviderError,
  SecretNotFoundError,
  ThrottledError,
  UnavailableError,
} from '../provider-errors.js';
import { findEndpointRefusal } from '../store-network.js';

/** TLS failures a user fixes in the store (caBundle, vaultUrl): retrying will not help. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
]);
const NETWORK_HINT = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up|network|endpoints_resolution_error/i;
const THROTTLE_HINT = /AADSTS50196|throttl|too many requests|\b429\b/i;
const TRANSIENT_OAUTH = /temporarily_unavailable|server_error|AADSTS90033/i;
const AUTH_HINT = /invalid_client|unauthorized_client|invalid_grant|invalid_request|invalid_scope|unsupported_grant_type|invalid_tenant|access_denied|AADSTS\d+|not configured to acquire tokens/i;
const TLS_HINT = /certificate|self[- ]signed|UNABLE_TO_VERIFY/i;
const MAX_DETAIL = 300;

/** The service's own explanation, short and single-line. */
function detail(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}…` : line;
}

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  cause?: unknown;
}

/** A ProviderError thrown by our own code inside the SDK (credential callbacks), wherever it is wrapped. */
function findProviderError(err: unknown): ProviderError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as ErrorLike).cause, depth += 1) {
    if (isProviderError(e)) return e;
  }
  return undefined;
}

function innerCode(err: unknown): string | undefined {
  const details = (err as { details?: { error?: { innerError?: { code?: string }; innererror?: { code?: string } } } }).details;
  return details?.error?.innerError?.code ?? details?.error?.innererror?.code;
}

function fromStatus(status: number, what: string, message: string, cause: unknown, inner?: string): ProviderError {
  const options = { cause };
  if (status === 404) return new SecretNotFoundError(`${what}: not found`, options);
  if (status === 403 && inner === 'SecretDisabled') return new SecretNotFoundError(`${what}: the secret is disabled`, options);
  if (status === 401 || status === 403) return new AuthError(`${what}: access denied (${status}): ${detail(message)}`, options);
  if (status === 429) return new ThrottledError(`${what}: throttled by Azure (429)`, options);
  if (status === 408 || status >= 500 || status === 409) return new UnavailableError(`${what}: Azure answered ${status}`, options);
  if (status === 400) return new InvalidRefError(`${what}: rejected as invalid (400): ${detail(message)}`, options);
  return new UnavailableError(`${what}: unexpected answer ${status}`, options);
}

function fromTransport(code: string | undefined, what: string, message: string, cause: unknown): ProviderError {
  if ((code && TLS_CODES.has(code)) || TLS_HINT.test(message)) {
    return new InvalidConfigError(`${what}: the server's TLS certificate is not trusted (${code ?? 'TLS'}); check vaultUrl and caBundle`, { cause });
  }
  return new UnavailableError(`${what}: cannot reach Azure (${code ?? 'network error'})`, { cause });
}

/**
 * @azure/identity errors without a status code (MSAL's are wrapped and lose it): the message is all
 * that is left. Entra's refusals carry an OAuth error code or an AADSTS number; anything else — an
 * unreachable or failing authority — is treated as transient rather than as a permanent auth error.
 */
function fromIdentity(name: string, what: string, message: string, cause: unknown): ProviderError {
  if (THROTTLE_HINT.test(message)) return new ThrottledError(`${what}: Microsoft Entra is throttling token requests`, { cause });
  if (TRANSIENT_OAUTH.test(message) || NETWORK_HINT.test(message)) {
    return new UnavailableError(`${what}: cannot get a token from Microsoft Entra: ${detail(message)}`, { cause });
  }
  if (name === 'CredentialUnavailableError' || AUTH_HINT.test(message)) {
    return new AuthError(`${what}: authentication failed: ${detail(message)}`, { cause });
  }
  return new UnavailableError(`${what}: cannot get a token from Microsoft Entra: ${detail(message)}`, { cause });
}

/** Maps any error thrown by an Azure SDK call for `what` (e.g. "reading secret 'db-password'"). */
export function toProviderError(err: unknown, what: string): ProviderError {
  const own = findProviderError(err) ?? findEndpointRefusal(err); // ours, or a dial-time refusal the SDK wrapped
  if (own) return own;
  const e = (err ?? {}) as ErrorLike;
  const message = String(e.message ?? err);
  if (e.name === 'AbortError') return new UnavailableError(`${what}: timed out or cancelled`, { cause: err });
  if (e.name === 'RestError') {
    if (e.statusCode) return fromStatus(e.statusCode, what, message, err, innerCode(err));
    return fromTransport(e.code, what, message, err);
  }
  if (e.name === 'AuthenticationError' && typeof e.statusCode === 'number') {
    if (e.statusCode === 429 || e.statusCode >= 500) return fromStatus(e.statusCode, what, message, err);
    return new AuthError(`${what}: Microsoft Entra refused the credentials (${e.statusCode}): ${detail(message)}`, { cause: err });
  }
  if (e.name === 'CredentialUnavailableError' || e.name === 'AuthenticationRequiredError' || e.name === 'AuthenticationError') {
    return fromIdentity(e.name, what, message, err);
  }
  if (isNetworkErrorCode(e.code) || (e.code && TLS_CODES.has(e.code))) return fromTransport(e.code, what, message, err);
  return new UnavailableError(`${what}: ${e.name ?? 'Error'}: ${detail(message)}`, { cause: err });
}
