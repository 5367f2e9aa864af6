/**
 * The Vault token of one store client, and its lifecycle. Work is done on demand, when a call
 * needs a token, rather than by a background timer: past 2/3 of its lease a token is renewed
 * (renew-self); a token that cannot be renewed (not renewable, refused, or capped by its max TTL)
 * is replaced by a new login; concurrent callers share one login or renewal. A 403 on a call whose
 * token Vault no longer accepts (revoked, expired early) triggers one new login and one retry;
 * concurrent 403s on one token share one check of it (lookup-self), and a token found dead is not
 * checked again, so a revocation costs one lookup and one login, not one of each per caller.
 *
 * A login Vault refuses (400/401/403: a destroyed SecretID, a wrong password) is not tried again
 * for 30 s, then 60 s, up to 2 min: Vault and OpenBao lock a role or user out after repeated
 * failed logins (user lockout: 5 within 15 min by default, for AppRole, userpass and LDAP), and
 * once locked out even a new, valid SecretID is refused for 15 min. Retried at every reconcile of
 * every ExternalSecret, a revoked SecretID locked the role out within seconds.
 */
import type { Logger } from '../../observability/logger.js';
import type { VaultApi } from './vault-api.js';
import type { VaultAuthMethod } from './vault-auth.js';
import { mapVaultError, vaultStatus } from './vault-errors.js';
import { PermanentProviderError } from '../provider-errors.js';

/** Renew (or log in again) once this fraction of a lease has passed. */
const RENEW_AT_FRACTION = 2 / 3;
/** A token closer than this to its expiry is not worth renewing: log in instead. */
const MIN_REMAINING_TO_RENEW_MS = 500;
/** After a refused login, the first pause before the next one; it doubles up to the cap. */
const REFUSED_LOGIN_PAUSE_MS = 30_000;
const REFUSED_LOGIN_PAUSE_MAX_MS = 120_000;
const REFUSED_LOGIN_STATUSES = new Set([400, 401, 403]);

interface RefusedLogin {
  error: PermanentProviderError;
  failures: number;
  until: number;
}

interface TokenState {
  token: string;
  /** The lease granted at login, in seconds; a renewal granting less has reached the max TTL. */
  grantedSeconds: number;
  renewable: boolean;
  /** Undefined for tokens without a lease (used until Vault refuses them). */
  expiresAt?: number;
  refreshAt?: number;
}

export interface SessionStats {
  logins: number;
  renewals: number;
}

export interface SessionDeps {
  log: Logger;
  now?: () => number;
}

export class VaultSession {
  private state: TokenState | undefined;
  private pending: Promise<string> | undefined;
  /** lookup-self checks in flight, by token, shared by concurrent callers. */
  private readonly checks = new Map<string, Promise<boolean>>();
  /** The last token Vault said it no longer knows. */
  private deadToken: string | undefined;
  /** The last login Vault refused, and until when it is not tried again. */
  private refused: RefusedLogin | undefined;
  private readonly counters: SessionStats = { logins: 0, renewals: 0 };
  private readonly now: () => number;

  constructor(
    private readonly api: VaultApi,
    private readonly method: VaultAuthMethod,
    private readonly deps: SessionDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** How many logins and renewals this session made (for tests and metrics). */
  get stats(): Readonly<SessionStats> {
    return { ...this.counters };
  }

  /** A token Vault should accept now: the current one, a renewed one, or one from a new login. */
  token(signal: AbortSignal): Promise<string> {
    const state = this.state;
    if (state && (state.refreshAt === undefined || this.now() < state.refreshAt)) return Promise.resolve(state.token);
    // Concurrent callers share one refresh, bounded by the first caller's deadline; a failed one is not kept.
    this.pending ??= this.refresh(state, signal).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Runs a call with a token; when Vault refuses a token it no longer knows, logs in once more and retries once. */
  async withToken<T>(signal: AbortSignal, call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token(signal);
    try {
      return await call(token);
    } catch (err) {
      if (vaultStatus(err) !== 403 || (await this.accepted(token, signal))) throw err;
      this.deps.log.info({ method: this.method.description }, 'Vault no longer accepts the token; logging in again');
      if (this.state?.token === token) this.state = undefined;
      const fresh = await this.token(signal);
      if (fresh === token) throw err;
      return call(fresh);
    }
  }

  /** Revokes a token this session obtained by logging in (best effort); a token given as is stays valid. */
  async close(): Promise<void> {
    const state = this.state;
    this.state = undefined;
    if (!state || !this.method.issuesTokens) return;
    await this.api
      .write('auth/token/revoke-self', {}, { token: state.token, signal: AbortSignal.timeout(2_000) })
      .catch((err: unknown) => this.deps.log.debug({ err: String(err) }, 'revoking the Vault token on close failed'));
  }

  private async refresh(state: TokenState | undefined, signal: AbortSignal): Promise<string> {
    if (state?.renewable && state.expiresAt !== undefined && this.now() < state.expiresAt - MIN_REMAINING_TO_RENEW_MS) {
      const renewed = await this.renew(state, signal);
      if (renewed) return renewed;
    }
    return this.login(signal);
  }

  private async login(signal: AbortSignal): Promise<string> {
    const refused = this.refused;
    if (refused && this.now() < refused.until) throw pausedLogin(refused);
    let login;
    try {
      login = await this.method.login(this.api, signal);
    } catch (err) {
      this.noteRefusal(err, refused);
      throw err;
    }
    this.refused = undefined;
    this.counters.logins += 1;
    this.state = this.track(login.token, login.leaseSeconds, login.renewable, login.leaseSeconds);
    this.deps.log.info({ method: this.method.description, leaseSeconds: login.leaseSeconds }, 'logged in to Vault');
    return login.token;
  }

  /** The renewed token, or undefined when Vault refused to renew it (then the caller logs in). */
  private async renew(state: TokenState, signal: AbortSignal): Promise<string | undefined> {
    let body: unknown;
    try {
      body = await this.api.write('auth/token/renew-self', {}, { token: state.token, signal });
    } catch (err) {
      if (vaultStatus(err) === undefined) throw mapVaultError(err, 'renewing the Vault token', 'login');
      this.deps.log.info({ method: this.method.description, status: vaultStatus(err) }, 'Vault refused to renew the token; logging in again');
      return undefined;
    }
    const auth = (body as { auth?: { lease_duration?: unknown; renewable?: unknown } } | undefined)?.auth;
    const lease = typeof auth?.lease_duration === 'number' ? auth.lease_duration : 0;
    if (lease <= 0) return undefined;
    this.counters.renewals += 1;
    // A lease shorter than the one granted at login was capped by the max TTL: the next refresh logs in.
    const renewable = auth?.renewable === true && lease >= state.grantedSeconds;
    this.state = this.track(state.token, lease, renewable, state.grantedSeconds);
    this.deps.log.debug({ method: this.method.description, leaseSeconds: lease }, 'renewed the Vault token');
    return state.token;
  }

  private track(token: string, leaseSeconds: number, renewable: boolean, grantedSeconds: number): TokenState {
    if (leaseSeconds <= 0) return { token, grantedSeconds, renewable: false };
    const now = this.now();
    const leaseMs = leaseSeconds * 1000;
    return { token, grantedSeconds, renewable, expiresAt: now + leaseMs, refreshAt: now + leaseMs * RENEW_AT_FRACTION };
  }

  /** Remembers a login Vault refused (not an outage, not a credential we could not read). */
  private noteRefusal(err: unknown, previous: RefusedLogin | undefined): void {
    if (!this.method.issuesTokens || !(err instanceof PermanentProviderError)) return;
    const status = vaultStatus(err.cause);
    if (status === undefined || !REFUSED_LOGIN_STATUSES.has(status)) return;
    const failures = (previous?.failures ?? 0) + 1;
    const pause = Math.min(REFUSED_LOGIN_PAUSE_MS * 2 ** (failures - 1), REFUSED_LOGIN_PAUSE_MAX_MS);
    this.refused = { error: err, failures, until: this.now() + pause };
    this.deps.log.info({ method: this.method.description, status, pauseSeconds: pause / 1000 }, 'Vault refused the login; not trying again before the pause ends');
  }

  /**
   * Whether Vault still knows the token, one check per token at a time (bounded by the first
   * caller's deadline, like a shared login); a token found dead stays dead.
   */
  private accepted(token: string, signal: AbortSignal): Promise<boolean> {
    if (token === this.deadToken) return Promise.resolve(false);
    let check = this.checks.get(token);
    if (!check) {
      check = this.isAccepted(token, signal)
        .then((alive) => {
          if (!alive) this.deadToken = token;
          return alive;
        })
        .finally(() => this.checks.delete(token));
      this.checks.set(token, check);
    }
    return check;
  }

  /** Whether Vault still knows the token (a 403 then means the policy denies the path). */
  private async isAccepted(token: string, signal: AbortSignal): Promise<boolean> {
    try {
      await this.api.read('auth/token/lookup-self', { token, signal });
      return true;
    } catch (err) {
      if (vaultStatus(err) === 403) return false;
      throw mapVaultError(err, 'checking the Vault token', 'read');
    }
  }
}

/** The refused login's error, of the same class, saying when the login is tried again. */
function pausedLogin(refused: RefusedLogin): PermanentProviderError {
  const Same = refused.error.constructor as new (message: string, options?: { cause?: unknown }) => PermanentProviderError;
  const when = new Date(refused.until).toISOString();
  return new Same(`${refused.error.message}; not tried again before ${when} (repeated failed logins make Vault lock the role or user out)`, { cause: refused.error });
}
