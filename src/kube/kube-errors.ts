/** Errors from the API server, classified once so callers can branch on the class. */
export class KubeError extends Error {
  constructor(message: string, readonly status: number, readonly reason?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
export class NotFoundError extends KubeError {}
export class ConflictError extends KubeError {}
/** 410: the resourceVersion we watched from is too old; relist. */
export class GoneError extends KubeError {}
export class ForbiddenError extends KubeError {}
/** 422: the object failed validation (message carries the server's field errors). */
export class InvalidError extends KubeError {}

/** The parts of a Kubernetes `Status` body we use. */
interface StatusBody {
  message?: string;
  reason?: string;
  code?: number;
}

const MAX_RAW_MESSAGE = 300;

/**
 * Maps an HTTP status (and the server's `Status` body, when there is one) to the error class callers
 * branch on. The server's message is kept; the parsed body is attached as `cause`.
 * `context` names the request (for example `apply secrets team-a/db`).
 */
export function buildKubeError(status: number, body: string, context: string): KubeError {
  const parsed = parseStatusBody(body);
  const detail = parsed?.message ?? (body.trim().slice(0, MAX_RAW_MESSAGE) || `HTTP ${status}`);
  const message = `${context}: ${detail}`;
  const reason = parsed?.reason;
  const options = { cause: parsed ?? body.slice(0, MAX_RAW_MESSAGE) };
  switch (status) {
    case 404: return new NotFoundError(message, status, reason, options);
    case 409: return new ConflictError(message, status, reason, options);
    case 410: return new GoneError(message, status, reason, options);
    case 403: return new ForbiddenError(message, status, reason, options);
    case 422: return new InvalidError(message, status, reason, options);
    default: return new KubeError(message, status, reason, options);
  }
}

/** A request that never got an HTTP answer (connection refused or reset, timeout): status 0. */
export function buildTransportError(context: string, cause: unknown): KubeError {
  const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new KubeError(`${context}: ${detail}`, 0, 'TransportError', { cause });
}

/** True for errors worth retrying unchanged: no answer, 429, 5xx. */
export function isTransientKubeError(err: unknown): boolean {
  if (!(err instanceof KubeError)) return false;
  return err.status === 0 || err.status === 429 || err.status >= 500;
}

function parseStatusBody(body: string): StatusBody | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null) return undefined;
    const { message, reason, code } = value as Record<string, unknown>;
    return {
      message: typeof message === 'string' ? message : undefined,
      reason: typeof reason === 'string' ? reason : undefined,
      code: typeof code === 'number' ? code : undefined,
    };
  } catch {
    return undefined;
  }
}
