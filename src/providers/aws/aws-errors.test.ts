import { AuthError, InvalidConfigError, InvalidRefError, SecretNotFoundError, ThrottledError, UnavailableError } from '../provider-errors.js';
import { mapAwsError, mapAwsErrorCode } from './aws-errors.js';

const sdkError = (name: string, extra: object = {}) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 400 }, ...extra });
const ref = { what: "remote key 'db/creds'", invalid: 'ref' as const };

describe('mapAwsError', () => {
  it.each([
    ['ResourceNotFoundException', SecretNotFoundError],
    ['UnrecognizedClientException', AuthError],
    ['InvalidSignatureException', AuthError],
    ['AccessDeniedException', AuthError],
    ['ExpiredTokenException', AuthError],
    ['InvalidIdentityToken', AuthError],
    ['ThrottlingException', ThrottledError],
    ['TooManyRequestsException', ThrottledError],
    ['InternalServiceError', UnavailableError],
    ['InvalidParameterException', InvalidRefError],
    ['InvalidRequestException', InvalidRefError],
  ])('maps %s', (name, type) => {
    const mapped = mapAwsError(sdkError(name), ref);
    expect(mapped).toBeInstanceOf(type);
    expect(mapped.message).toContain("remote key 'db/creds'");
    expect(mapped.cause).toBeInstanceOf(Error);
  });

  it('treats invalid parameters of a store-level call as config errors', () => {
    expect(mapAwsError(sdkError('InvalidParameterException'), { what: 'listing secrets', invalid: 'config' })).toBeInstanceOf(InvalidConfigError);
  });

  it('treats a secret scheduled for deletion as not found', () => {
    const err = Object.assign(sdkError('InvalidRequestException'), { message: "You can't perform this operation on the secret because it was marked for deletion." });
    expect(mapAwsError(err, ref)).toBeInstanceOf(SecretNotFoundError);
  });

  it('maps network failures, timeouts and aborts as unavailable', () => {
    expect(mapAwsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), ref)).toBeInstanceOf(UnavailableError);
    expect(mapAwsError(new Error('x', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }), ref)).toBeInstanceOf(UnavailableError);
    expect(mapAwsError(Object.assign(new Error('timed out'), { name: 'TimeoutError' }), ref)).toBeInstanceOf(UnavailableError);
    expect(mapAwsError(Object.assign(new Error('aborted'), { name: 'AbortError' }), ref)).toBeInstanceOf(UnavailableError);
  });

  it('falls back on the HTTP status of responses it cannot parse', () => {
    const unparsed = (status: number) => Object.assign(new SyntaxError('Unexpected token <'), { $metadata: { httpStatusCode: status } });
    expect(mapAwsError(unparsed(403), ref)).toBeInstanceOf(AuthError);
    expect(mapAwsError(unparsed(429), ref)).toBeInstanceOf(ThrottledError);
    expect(mapAwsError(unparsed(503), ref)).toBeInstanceOf(UnavailableError);
    expect(mapAwsError(unparsed(404), ref)).toBeInstanceOf(SecretNotFoundError);
  });

  it('passes provider errors through and treats anything unknown as transient', () => {
    const auth = new AuthError('already classified');
    expect(mapAwsError(auth, ref)).toBe(auth);
    expect(mapAwsError(sdkError('SomethingNew'), ref)).toBeInstanceOf(UnavailableError);
    expect(mapAwsError('a string', ref)).toBeInstanceOf(UnavailableError);
  });

  it('maps BatchGetSecretValue entry codes, and leaves unknown codes to the caller', () => {
    expect(mapAwsErrorCode('ResourceNotFoundException', 'gone', ref)).toBeInstanceOf(SecretNotFoundError);
    expect(mapAwsErrorCode('AccessDeniedException', 'no', ref)).toBeInstanceOf(AuthError);
    expect(mapAwsErrorCode('Mystery', 'x', ref)).toBeUndefined();
  });
});
