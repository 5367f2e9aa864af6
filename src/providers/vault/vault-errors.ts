/**
 * Maps whatever a Vault call threw (node-vault's response errors, socket and TLS errors, aborts) to
 * Lockstep's provider errors — once, at the edge. Messages name paths and keys, never values;
 * Vault's own error text is kept (it names paths and reasons such as "Vault is sealed").
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

/** What the failed call was doing: reads map 404 to NotFound, logins map 400/404 to auth/config errors. */
export type VaultOperation = 'read' | 'list' | 'login';

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;
/** TLS alerts the server sends about our client certificate (OpenSSL's codes, e.g. ERR_SSL_TLSV1_ALERT_UNKNOWN_CA). */
const CLIENT_CERT_REQUIRED = /ALERT_CERTIFICATE_REQUIRED/;
const CLIENT_CERT_REFUSED = /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)/;

/** An error-like object. Duck-typed: errors from Node internals may come from another realm (vm contexts). */
interface ErrorLike {
  name: string;
  message: string;
  code?: unknown;
  response?: { statusCode?: unknown };
}

function asErrorLike(err: unknown): ErrorLike | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as Partial<ErrorLike>;
  return typeof e.message === 'string' ? (err as ErrorLike) : undefined;
}

/** The HTTP status of a Vault response error, if the error is one. */
export function vaultStatus(err: unknown): number | undefined {
  const status = asErrorLike(err)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Vault's error text on one line: its multierror form ("1 error occurred:\n\t* permission denied\n\n")
 * becomes "permission denied", several items are joined with "; ".
 */
export function tidyVaultText(text: string): string {
  const listed = /^\s*\d+ errors? occurred:\s*\*\s*/.exec(text);
  const items = listed ? text.slice(listed[0].length).split(/\n\s*\*\s*/) : [text];
  return items.map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean).join('; ');
}

function vaultMessage(err: ErrorLike): string {
  const tidy = tidyVaultText(err.message);
  const text = tidy.length > 200 ? `${tidy.slice(0, 200)}…` : tidy;
  return text === '' || /^Status \d+$/.test(text) ? '' : `: ${text}`;
}

function fromStatus(status: number, err: ErrorLike, what: string, op: VaultOperation): ProviderError {
  const detail = `${what}: Vault answered ${status}${vaultMessage(err)}`;
  if (status === 404) return op === 'login' ? new InvalidConfigError(`${detail} (is the auth method mounted there?)`, { cause: err }) : new SecretNotFoundError(`${what} does not exist`, { cause: err });
  if ((status === 401 || status === 403) && op === 'login') {
    return new AuthError(`${detail} (check the auth configuration; Vault also refuses every login of a role or user it locked out after repeated failed logins, until the lockout ends or sys/locked-users unlocks it)`, { cause: err });
  }
  if (status === 401 || status === 403) return new AuthError(`${detail} (check the token's policies and the auth configuration)`, { cause: err });
  if (status === 429) return new ThrottledError(detail, { cause: err });
  if (status >= 500 || status === 412) return new UnavailableError(detail, { cause: err });
  if (op === 'login') return new AuthError(detail, { cause: err });
  return new InvalidRefError(detail, { cause: err });
}

function fromTransport(err: ErrorLike, what: string): ProviderError {
  const code = typeof err.code === 'string' ? err.code : '';
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return new UnavailableError(`${what}: the request was cancelled or timed out`, { cause: err });
  if (isNetworkErrorCode(code)) return new UnavailableError(`${what}: cannot reach Vault (${code})`, { cause: err });
  if (CLIENT_CERT_REQUIRED.test(code)) {
    return new InvalidConfigError(`${what}: Vault requires a TLS client certificate (${code}); set tls.certSecretRef and tls.keySecretRef`, { cause: err });
  }
  if (CLIENT_CERT_REFUSED.test(code)) {
    return new InvalidConfigError(
      `${what}: Vault refused the TLS client certificate (${code}); its listener must trust the certificate's issuer (tls_client_ca_file), and the certificate must be valid: check tls (or auth.cert)`,
      { cause: err },
    );
  }
  if (TLS_CODE.test(code)) {
    return new InvalidConfigError(`${what}: TLS verification of the Vault server failed (${code}); check server and caBundle`, { cause: err });
  }
  return new UnavailableError(`${what}: ${err.message}`, { cause: err });
}

/** `what` names the operation and key, e.g. "reading remote key 'db/creds' from secret/ (KV v2)". */
export function mapVaultError(err: unknown, what: string, op: VaultOperation): ProviderError {
  if (isProviderError(err)) return err;
  const refused = findEndpointRefusal(err); // a dial-time refusal, wrapped by the SDK
  if (refused) return refused;
  const like = asErrorLike(err);
  if (!like) return new UnavailableError(`${what}: ${String(err)}`);
  const status = vaultStatus(err);
  return status === undefined ? fromTransport(like, what) : fromStatus(status, like, what, op);
}
