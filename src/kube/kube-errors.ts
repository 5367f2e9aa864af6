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
