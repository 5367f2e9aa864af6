/**
 * The one place where errors of the AWS SDK (and of the network under it) become provider errors.
 * Messages name the key and the AWS error code, never a value.
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

const NOT_FOUND = new Set(['ResourceNotFoundException']);
const AUTH = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
  'AccessDenied',
  'AccessDeniedException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidIdentityToken',
  'IDPRejectedClaim',
  'RegionDisabledException',
  'DecryptionFailure',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
  'SlowDown',
]);
const UNAVAILABLE = new Set([
  'InternalServiceError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'IDPCommunicationError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);
const INVALID = new Set(['InvalidParameterException', 'InvalidRequestException', 'ValidationException', 'InvalidParameterValue']);

/** What the failing call was about, for the message and for choosing Ref vs Config errors. */
export interface AwsErrorContext {
  /** e.g. "remote key 'db/creds'" or "listing secrets". */
  what: string;
  /** Whether an invalid-parameter error is the ref's fault (a bad key or version) or the store's. */
  invalid?: 'ref' | 'config';
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  cause?: unknown;
}

function shapeOf(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

function short(text: unknown): string {
  const s = typeof text === 'string' ? text.replace(/\s+/g, ' ').trim() : '';
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** Maps an AWS error code (from an SDK exception or a BatchGetSecretValue entry) to a provider error. */
export function mapAwsErrorCode(code: string, message: unknown, ctx: AwsErrorContext, cause?: unknown): ProviderError | undefined {
  const text = `${ctx.what}: ${code}${short(message) ? `: ${short(message)}` : ''}`;
  if (NOT_FOUND.has(code)) return new SecretNotFoundError(`${ctx.what} does not exist (${code})`, { cause });
  if (code === 'InvalidRequestException' && /marked for deletion/i.test(String(message))) {
    return new SecretNotFoundError(`${ctx.what} is scheduled for deletion (${code})`, { cause });
  }
  if (AUTH.has(code)) return new AuthError(text, { cause });
  if (THROTTLED.has(code)) return new ThrottledError(text, { cause });
  if (UNAVAILABLE.has(code)) return new UnavailableError(text, { cause });
  if (INVALID.has(code)) return ctx.invalid === 'config' ? new InvalidConfigError(text, { cause }) : new InvalidRefError(text, { cause });
  return undefined;
}

function networkCode(err: unknown, depth = 0): string | undefined {
  const { code, cause } = shapeOf(err);
  // EPROTO (a TLS or protocol mismatch on the way) is retried like the network errors.
  if (isNetworkErrorCode(code) || code === 'EPROTO') return code;
  return depth < 3 && cause !== undefined ? networkCode(cause, depth + 1) : undefined;
}

function mapByStatus(status: number | undefined, name: string, err: unknown, ctx: AwsErrorContext): ProviderError | undefined {
  if (status === undefined) return undefined;
  const text = `${ctx.what}: HTTP ${status}${name && name !== 'SyntaxError' ? ` (${name})` : ''}`;
  if (status === 401 || status === 403) return new AuthError(`${text}: the credentials were rejected or lack permission`, { cause: err });
  if (status === 429) return new ThrottledError(text, { cause: err });
  if (status >= 500) return new UnavailableError(text, { cause: err });
  if (status === 404) return new SecretNotFoundError(`${ctx.what} does not exist (HTTP 404)`, { cause: err });
  return undefined;
}

/** Classifies any error thrown by an SDK call. Errors already classified pass through unchanged. */
export function mapAwsError(err: unknown, ctx: AwsErrorContext): ProviderError {
  if (isProviderError(err)) return err;
  const refused = findEndpointRefusal(err); // a dial-time refusal, wrapped by the SDK
  if (refused) return refused;
  const shape = shapeOf(err);
  const name = typeof shape.name === 'string' ? shape.name : '';
  const byCode = name ? mapAwsErrorCode(name, shape.message, ctx, err) : undefined;
  if (byCode) return byCode;
  const network = networkCode(err);
  if (network) return new UnavailableError(`${ctx.what}: cannot reach AWS (${network})`, { cause: err });
  if (shape.$retryable?.throttling) return new ThrottledError(`${ctx.what}: ${name || 'throttled'}`, { cause: err });
  const byStatus = mapByStatus(shape.$metadata?.httpStatusCode, name, err, ctx);
  if (byStatus) return byStatus;
  return new UnavailableError(`${ctx.what}: ${name || 'unexpected error'}${short(shape.message) ? `: ${short(shape.message)}` : ''}`, {
    cause: err,
  });
}
