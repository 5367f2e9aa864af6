/** Maps gRPC failures of Secret Manager calls to Lockstep's provider errors, once, at the edge. */
import { Status } from 'google-gax';
import {
  AuthError,
  InvalidConfigError,
  InvalidRefError,
  isProviderError,
  ProviderError,
  SecretNotFoundError,
  ThrottledError,
  UnavailableError,
} from '../provider-errors.js';
import { findEndpointRefusal } from '../store-network.js';

type ErrorClass = new (message: string, options?: { cause?: unknown }) => ProviderError;

const BY_STATUS: Partial<Record<Status, ErrorClass>> = {
  [Status.NOT_FOUND]: SecretNotFoundError,
  [Status.UNAUTHENTICATED]: AuthError,
  [Status.PERMISSION_DENIED]: AuthError,
  [Status.RESOURCE_EXHAUSTED]: ThrottledError,
  [Status.INVALID_ARGUMENT]: InvalidRefError,
  [Status.FAILED_PRECONDITION]: InvalidRefError,
  [Status.OUT_OF_RANGE]: InvalidRefError,
  [Status.UNIMPLEMENTED]: InvalidConfigError,
};

/** The gRPC status code of an SDK error, if it has one. */
export function statusOf(err: unknown): Status | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code in Status ? (code as Status) : undefined;
}

/** The server's own explanation, which names resources but never payloads. */
function detailsOf(err: unknown): string {
  const details = (err as { details?: unknown } | null)?.details;
  if (typeof details === 'string' && details.length > 0) return details;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Classifies an SDK error for one operation (`what` names the key, never a value). Anything the
 * server might answer differently on a retry (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN,
 * ABORTED, CANCELLED on abort, connection failures) is transient.
 */
export function mapGcpError(err: unknown, what: string): ProviderError {
  if (isProviderError(err)) return err;
  const refused = findEndpointRefusal(err); // a dial-time refusal, wrapped by the SDK
  if (refused) return refused;
  const status = statusOf(err);
  const name = status === undefined ? 'error' : Status[status];
  const ErrorType = (status !== undefined && BY_STATUS[status]) || UnavailableError;
  return new ErrorType(`GCP Secret Manager: ${what}: ${name}: ${detailsOf(err)}`, { cause: err });
}
