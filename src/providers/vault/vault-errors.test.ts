import {
  AuthError,
  InvalidConfigError,
  InvalidRefError,
  SecretNotFoundError,
  ThrottledError,
  UnavailableError,
} from '../provider-errors.js';
import { mapVaultError, tidyVaultText, vaultStatus } from './vault-errors.js';

/** The shape of node-vault's ApiResponseError. */
function apiError(statusCode: number, message = `Status ${statusCode}`): Error {
  return Object.assign(new Error(message), { response: { statusCode, body: {} } });
}
const codeError = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('mapVaultError', () => {
  it.each([
    [404, 'read', SecretNotFoundError],
    [404, 'login', InvalidConfigError],
    [403, 'read', AuthError],
    [401, 'read', AuthError],
    [429, 'read', ThrottledError],
    [500, 'read', UnavailableError],
    [503, 'read', UnavailableError],
    [412, 'read', UnavailableError],
    [400, 'read', InvalidRefError],
    [400, 'login', AuthError],
  ] as const)('maps %i on a %s', (status, op, type) => {
    expect(mapVaultError(apiError(status), 'reading x', op)).toBeInstanceOf(type);
  });

  it('maps socket errors and aborts to Unavailable, TLS failures to InvalidConfig', () => {
    expect(mapVaultError(codeError('ECONNREFUSED'), 'w', 'read')).toBeInstanceOf(UnavailableError);
    expect(mapVaultError(codeError('ECONNRESET'), 'w', 'read')).toBeInstanceOf(UnavailableError);
    expect(mapVaultError(Object.assign(new Error('aborted'), { name: 'AbortError' }), 'w', 'read')).toBeInstanceOf(UnavailableError);
    expect(mapVaultError(codeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'w', 'read')).toBeInstanceOf(InvalidConfigError);
    expect(mapVaultError(codeError('DEPTH_ZERO_SELF_SIGNED_CERT'), 'w', 'read')).toBeInstanceOf(InvalidConfigError);
    expect(mapVaultError(codeError('ERR_TLS_CERT_ALTNAME_INVALID'), 'w', 'read')).toBeInstanceOf(InvalidConfigError);
    expect(mapVaultError('weird', 'w', 'read')).toBeInstanceOf(UnavailableError);
  });

  it("keeps provider errors, Vault's reason and the cause; names what failed", () => {
    const original = new AuthError('already mapped');
    expect(mapVaultError(original, 'w', 'read')).toBe(original);
    const cause = apiError(503, 'Vault is sealed');
    const mapped = mapVaultError(cause, "reading remote key 'db'", 'read');
    expect(mapped.message).toBe("reading remote key 'db': Vault answered 503: Vault is sealed");
    expect(mapped.cause).toBe(cause);
    expect(mapVaultError(apiError(404), "remote key 'db'", 'read').message).toBe("remote key 'db' does not exist");
  });

  it('reads the status of response errors only', () => {
    expect(vaultStatus(apiError(403))).toBe(403);
    expect(vaultStatus(codeError('ECONNREFUSED'))).toBeUndefined();
    expect(vaultStatus(undefined)).toBeUndefined();
  });

  it("puts Vault's multierror text on one line", () => {
    expect(tidyVaultText('1 error occurred:\n\t* permission denied\n\n')).toBe('permission denied');
    expect(tidyVaultText('2 errors occurred:\n\t* one\n\t* two\n\n')).toBe('one; two');
    expect(tidyVaultText('ldap operation failed: failed to bind as user')).toBe('ldap operation failed: failed to bind as user');
    expect(mapVaultError(apiError(403, '1 error occurred:\n\t* permission denied\n\n'), "reading remote key 'a'", 'read').message)
      .toBe("reading remote key 'a': Vault answered 403: permission denied (check the token's policies and the auth configuration)");
  });

  it("names the client certificate when Vault's listener asks for one or refuses it", () => {
    const required = mapVaultError(codeError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'), 'reading x', 'read');
    expect(required).toBeInstanceOf(InvalidConfigError);
    expect(required.message).toBe('reading x: Vault requires a TLS client certificate (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED); set tls.certSecretRef and tls.keySecretRef');
    for (const code of ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED']) {
      const refused = mapVaultError(codeError(code), 'reading x', 'read');
      expect(refused).toBeInstanceOf(InvalidConfigError);
      expect(refused.message).toContain(`Vault refused the TLS client certificate (${code})`);
    }
    expect(mapVaultError(codeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'reading x', 'read').message).toContain('TLS verification of the Vault server failed');
  });
});
