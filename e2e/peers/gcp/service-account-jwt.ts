// Verification of the self-signed JWTs Google client libraries send for a service-account key
// (no token endpoint: the SDK signs a JWT with the key and sends it as the bearer token). Google
// accepts a JWT whose `iss` and `sub` are the service account, signed RS256 with one of its keys
// (`kid`), not expired, lasting at most an hour, and either scoped (`scope`) or addressed to the
// service (`aud` = https://secretmanager.googleapis.com/). This checks the same with node:crypto.
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { TrustedServiceAccount } from './peer-protocol.js';

const SERVICE_AUDIENCE = 'https://secretmanager.googleapis.com/';
const ACCEPTED_SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];
const MAX_LIFETIME_S = 3600;
const CLOCK_SKEW_S = 300;

interface TrustedKey {
  account: TrustedServiceAccount;
  key: KeyObject;
}

export type JwtCheck = { ok: true; account: TrustedServiceAccount } | { ok: false; reason: string };

export class ServiceAccountJwtVerifier {
  private readonly byEmail = new Map<string, TrustedKey>();

  constructor(accounts: TrustedServiceAccount[]) {
    for (const account of accounts) this.byEmail.set(account.email, { account, key: createPublicKey(account.publicKeyPem) });
  }

  verify(token: string, nowMs: number): JwtCheck {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
    const [h, p, s] = parts as [string, string, string];
    let header: { alg?: unknown; kid?: unknown };
    let claims: { iss?: unknown; sub?: unknown; aud?: unknown; scope?: unknown; exp?: unknown; iat?: unknown };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return { ok: false, reason: 'malformed JWT' };
    }
    if (header.alg !== 'RS256') return { ok: false, reason: `alg ${String(header.alg)} is not RS256` };
    const trusted = typeof claims.iss === 'string' ? this.byEmail.get(claims.iss) : undefined;
    if (!trusted) return { ok: false, reason: 'unknown service account' };
    if (trusted.account.keyId && header.kid !== undefined && header.kid !== trusted.account.keyId) return { ok: false, reason: 'unknown key id' };
    if (!verify('sha256', Buffer.from(`${h}.${p}`), trusted.key, Buffer.from(s, 'base64url'))) return { ok: false, reason: 'bad signature' };
    return this.checkClaims(claims, trusted.account, Math.floor(nowMs / 1000));
  }

  private checkClaims(claims: { sub?: unknown; aud?: unknown; scope?: unknown; exp?: unknown; iat?: unknown }, account: TrustedServiceAccount, now: number): JwtCheck {
    if (claims.sub !== account.email) return { ok: false, reason: 'sub is not the service account' };
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return { ok: false, reason: 'exp or iat missing' };
    if (claims.exp <= now) return { ok: false, reason: 'expired' };
    if (claims.iat > now + CLOCK_SKEW_S) return { ok: false, reason: 'issued in the future' };
    if (claims.exp - claims.iat > MAX_LIFETIME_S) return { ok: false, reason: 'lifetime over an hour' };
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    const scoped = scopes.some((scope) => ACCEPTED_SCOPES.includes(scope));
    if (!scoped && claims.aud !== SERVICE_AUDIENCE) return { ok: false, reason: 'neither a cloud-platform scope nor the service audience' };
    return { ok: true, account };
  }
}
