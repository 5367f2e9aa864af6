import { Status } from 'google-gax';
import { mapGcpError, statusOf } from './gcp-errors.js';
import {
  AuthError,
  InvalidConfigError,
  InvalidRefError,
  SecretNotFoundError,
  ThrottledError,
  UnavailableError,
} from '../provider-errors.js';

const grpcError = (code: Status, details = 'server says') => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('mapGcpError', () => {
  it.each([
    [Status.NOT_FOUND, SecretNotFoundError],
    [Status.UNAUTHENTICATED, AuthError],
    [Status.PERMISSION_DENIED, AuthError],
    [Status.RESOURCE_EXHAUSTED, ThrottledError],
    [Status.UNAVAILABLE, UnavailableError],
    [Status.DEADLINE_EXCEEDED, UnavailableError],
    [Status.INTERNAL, UnavailableError],
    [Status.CANCELLED, UnavailableError],
    [Status.UNKNOWN, UnavailableError],
    [Status.INVALID_ARGUMENT, InvalidRefError],
    [Status.FAILED_PRECONDITION, InvalidRefError],
    [Status.UNIMPLEMENTED, InvalidConfigError],
  ])('maps gRPC status %s', (code, type) => {
    const err = mapGcpError(grpcError(code), "remote key 'db'");
    expect(err).toBeInstanceOf(type);
    expect(err.message).toBe(`GCP Secret Manager: remote key 'db': ${Status[code]}: server says`);
    expect(statusOf(err.cause)).toBe(code);
  });

  it('treats errors without a status as unavailable and keeps provider errors as they are', () => {
    expect(mapGcpError(new Error('socket hang up'), 'x')).toBeInstanceOf(UnavailableError);
    const own = new InvalidRefError('bad ref');
    expect(mapGcpError(own, 'x')).toBe(own);
  });
});
