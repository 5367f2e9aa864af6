import { AuthError, InvalidConfigError, InvalidRefError, SecretNotFoundError, ThrottledError, UnavailableError } from '../provider-errors.js';
import { toProviderError } from './azure-errors.js';

function restError(statusCode: number | undefined, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`service said ${statusCode ?? 'nothing'}`), { name: 'RestError', statusCode, ...extra });
}

function identityError(name: string, message: string, statusCode?: number): Error {
  return Object.assign(new Error(message), { name, statusCode });
}

describe('toProviderError', () => {
  it.each([
    [404, SecretNotFoundError],
    [401, AuthError],
    [403, AuthError],
    [429, ThrottledError],
    [500, UnavailableError],
    [503, UnavailableError],
    [408, UnavailableError],
    [400, InvalidRefError],
  ])('maps a Key Vault %i answer', (status, type) => {
    expect(toProviderError(restError(status), "reading secret 'db'")).toBeInstanceOf(type);
  });

  it('treats a disabled secret (403 SecretDisabled) as absent', () => {
    for (const key of ['innerError', 'innererror']) {
      const err = restError(403, { details: { error: { code: 'Forbidden', [key]: { code: 'SecretDisabled' } } } });
      expect(toProviderError(err, "reading secret 'db'")).toBeInstanceOf(SecretNotFoundError);
    }
  });

  it('maps connection failures to unavailable and untrusted certificates to invalid config', () => {
    expect(toProviderError(restError(undefined, { code: 'ECONNREFUSED' }), 'x')).toBeInstanceOf(UnavailableError);
    expect(toProviderError(restError(undefined, { code: 'REQUEST_SEND_ERROR' }), 'x')).toBeInstanceOf(UnavailableError);
    const tls = toProviderError(restError(undefined, { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), 'x');
    expect(tls).toBeInstanceOf(InvalidConfigError);
    expect(tls.message).toContain('caBundle');
    const plain = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toProviderError(plain, 'x')).toBeInstanceOf(UnavailableError);
  });

  it('maps aborts (deadlines) to unavailable', () => {
    expect(toProviderError(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), 'x')).toBeInstanceOf(UnavailableError);
  });

  it('maps Entra answers by status when the SDK kept it', () => {
    expect(toProviderError(identityError('AuthenticationError', 'invalid_client', 401), 'x')).toBeInstanceOf(AuthError);
    expect(toProviderError(identityError('AuthenticationError', 'busy', 503), 'x')).toBeInstanceOf(UnavailableError);
    expect(toProviderError(identityError('AuthenticationError', 'slow down', 429), 'x')).toBeInstanceOf(ThrottledError);
  });

  it('maps Entra answers by their OAuth error when the status was lost', () => {
    const cases: [string, string, unknown][] = [
      ['AuthenticationRequiredError', 'invalid_client: AADSTS7000215: Invalid client secret provided.', AuthError],
      ['AuthenticationRequiredError', 'unauthorized_client: AADSTS700016: Application not found', AuthError],
      ['AuthenticationRequiredError', 'server_error: AADSTS90033: A transient error has occurred.', UnavailableError],
      ['AuthenticationRequiredError', 'temporarily_unavailable: AADSTS50196: throttled', ThrottledError],
      ['AuthenticationRequiredError', '[object Object]: Error(s): Not Available', UnavailableError],
      ['CredentialUnavailableError', 'endpoints_resolution_error: See https://aka.ms/msal.js.errors', UnavailableError],
      ['CredentialUnavailableError', 'The current credential is not configured to acquire tokens for tenant t', AuthError],
      ['CredentialUnavailableError', 'ManagedIdentityCredential: no managed identity endpoint', AuthError],
    ];
    for (const [name, message, type] of cases) {
      expect([message, toProviderError(identityError(name, message), 'x')]).toEqual([message, expect.any(type)]);
    }
  });

  it('passes our own provider errors through, also when wrapped as a cause', () => {
    const own = new InvalidConfigError("ServiceAccount 'x' does not exist");
    expect(toProviderError(own, 'x')).toBe(own);
    expect(toProviderError(new Error('wrapped', { cause: own }), 'x')).toBe(own);
  });

  it('names the operation and keeps the cause, and maps anything unknown to unavailable', () => {
    const cause = new TypeError('boom');
    const err = toProviderError(cause, "reading secret 'db'");
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain("reading secret 'db'");
    expect(err.cause).toBe(cause);
  });
});
