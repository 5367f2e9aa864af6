/**
 * The Vault token of one store client, and its lifecycle. Work is done on demand, when a call
 * needs a token, rather than by a background timer: past 2/3 of its lease a token is renewed
 * (renew-self); a token that cannot be renewed (not renewable, refused, or capped by its max TTL)
 * is replaced by a new login; concurrent callers share one login or renewal. A 403 on a call whose
 * token Vault no longer accepts (revoked, expired early) triggers one new login and one retry.
 */
import type { Logger } from '../../observability/logger.js';
import type { VaultApi } from './vault-api.js';
import type { VaultAuthMethod } from './vault-auth.js';
import { mapVaultError, vaultStatus } from './vault-errors.js';

/** Renew (or log in again) once this fraction of a lease has passed. */
const RENEW_AT_FRACTION = 2 / 3;
/** A token closer than this to its expiry is not worth renewing: log in instead. */
const MIN_REMAINING_TO_RENEW_MS = 500;

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
      if (vaultStatus(err) !== 403 || (await this.isAccepted(token, signal))) throw err;
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
    const login = await this.method.login(this.api, signal);
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
