/**
 * Provider errors carry their retry policy. Classify once, at the provider edge:
 * - NotFound drives the ExternalSecret's deletionPolicy;
 * - Permanent (auth, invalid config) becomes a condition and a slow requeue;
 * - Transient (throttled, unavailable, timeout) backs off per key and leaves the Secret untouched.
 * Messages name keys and stores, never values.
 */
export type ProviderErrorClass = 'NotFound' | 'Permanent' | 'Transient';

export abstract class ProviderError extends Error {
  abstract readonly errorClass: ProviderErrorClass;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class SecretNotFoundError extends ProviderError {
  readonly errorClass = 'NotFound';
}

export class PermanentProviderError extends ProviderError {
  readonly errorClass = 'Permanent';
}
export class AuthError extends PermanentProviderError {}
export class InvalidConfigError extends PermanentProviderError {}
/** The data exists but cannot be read the way the spec asks (e.g. a property path that does not exist). */
export class InvalidRefError extends PermanentProviderError {}
/**
 * The store asks for something its kind may not have: an endpoint, the operator's own identity, a
 * token the API server would accept. `reason` is the Ready reason the store reports.
 */
export class NotAllowedError extends PermanentProviderError {
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown; code?: string },
  ) {
    super(message, options);
    if (options?.code) this.code = options.code;
  }

  readonly code?: string;
}

export class TransientProviderError extends ProviderError {
  readonly errorClass = 'Transient';
}
export class ThrottledError extends TransientProviderError {}
export class UnavailableError extends TransientProviderError {}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

/** A NotAllowedError anywhere in an error's `cause` chain (SDKs wrap what our hooks throw). */
export function findNotAllowed(err: unknown): NotAllowedError | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof NotAllowedError) return e;
    const errors = (e as { errors?: unknown }).errors; // AggregateError of autoSelectFamily connects
    if (Array.isArray(errors)) {
      const inner = errors.map(findNotAllowed).find((x) => x !== undefined);
      if (inner) return inner;
    }
  }
  return undefined;
}

/**
 * Socket-level failure codes of Node and undici (refused, reset, timed out, unresolvable, closed
 * early): the provider could not be reached, so the call is worth retrying. TLS failures are not
 * here; each provider decides whether its TLS errors are the store's fault.
 */
const NETWORK_ERROR_CODE =
  /^(E(CONNREFUSED|CONNRESET|CONNABORTED|TIMEDOUT|PIPE|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH)|UND_ERR_|ERR_STREAM_PREMATURE_CLOSE$|REQUEST_SEND_ERROR$)/;

export function isNetworkErrorCode(code: unknown): code is string {
  return typeof code === 'string' && NETWORK_ERROR_CODE.test(code);
}
