// OUR stand-in for Google's Security Token Service and IAM Credentials API (not Google's code), for
// the workload identity tests of the Secret Manager test peer. It does what a Workload Identity
// Federation OIDC provider does with a Kubernetes ServiceAccount token:
// - STS `POST /v1/token` (RFC 8693): the `audience` must be the configured pool provider; the
//   subject token must be an RS256 JWT signed by one of the cluster issuer's keys (the JWKS the
//   real local kube-apiserver publishes at /openid/v1/jwks), with that issuer as `iss`, one of
//   the provider's allowed audiences in `aud`, and not expired. The federated principal is
//   `google.subject = assertion.sub` (system:serviceaccount:NS:NAME).
// - IAM Credentials `POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken`: a federated
//   token buys a service account's token only if its subject may impersonate that account
//   (roles/iam.workloadIdentityUser).
// Access tokens are HMAC-signed by the peer, so they survive a restart like Google's do.
import { createHmac, createPublicKey, type JsonWebKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FederationConfig } from './peer-protocol.js';

const TOKEN_SECONDS = 3600;
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Who an access token speaks for. */
export type AccessTokenSubject = { kind: 'federated'; subject: string } | { kind: 'serviceAccount'; email: string };

export interface FederationStats {
  stsExchanges: number;
  impersonations: number;
  rejected: number;
}

interface HttpReply {
  status: number;
  body: unknown;
}

const oauthError = (status: number, error: string, description: string): HttpReply => ({ status, body: { error, error_description: description } });
const googleError = (code: number, status: string, message: string): HttpReply => ({ status: code, body: { error: { code, status, message } } });

function decodeJwt(token: string): { header: { alg?: unknown; kid?: unknown }; claims: Record<string, unknown>; signed: Buffer; signature: Buffer } | undefined {
  const [h, p, s, ...rest] = token.split('.');
  if (!h || !p || !s || rest.length > 0) return undefined;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    return { header, claims, signed: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url') };
  } catch {
    return undefined;
  }
}

export class Federation {
  readonly stats: FederationStats = { stsExchanges: 0, impersonations: 0, rejected: 0 };
  private readonly keys: { kid?: string; key: KeyObject }[];

  constructor(
    private readonly config: FederationConfig,
    private readonly tokenKey: string,
    private readonly log: (line: string) => void,
  ) {
    this.keys = config.jwks.map((jwk: JsonWebKey) => ({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, key: createPublicKey({ key: jwk, format: 'jwk' }) }));
  }

  /** An opaque bearer token: base64url(JSON) + '.' + HMAC. */
  private mint(subject: AccessTokenSubject, nowMs: number): { token: string; exp: number } {
    const exp = Math.floor(nowMs / 1000) + TOKEN_SECONDS;
    const body = Buffer.from(JSON.stringify({ ...subject, exp })).toString('base64url');
    const mac = createHmac('sha256', this.tokenKey).update(body).digest('base64url');
    return { token: `ya29.lockstep.${body}.${mac}`, exp };
  }

  /** The subject of an access token this peer minted, if it is genuine and not expired. */
  verifyAccessToken(token: string, nowMs: number): AccessTokenSubject | undefined {
    const m = /^ya29\.lockstep\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
    if (!m?.[1] || !m[2]) return undefined;
    const expected = createHmac('sha256', this.tokenKey).update(m[1]).digest();
    const given = Buffer.from(m[2], 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const parsed = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as AccessTokenSubject & { exp: number };
    if (parsed.exp <= nowMs / 1000) return undefined;
    return parsed.kind === 'federated' ? { kind: 'federated', subject: parsed.subject } : { kind: 'serviceAccount', email: parsed.email };
  }

  /** Why the Kubernetes ServiceAccount token is refused, or its subject. */
  private checkSubjectToken(token: string, nowMs: number): { subject: string } | { reason: string } {
    const jwt = decodeJwt(token);
    if (!jwt) return { reason: 'the subject token is not a JWT' };
    if (jwt.header.alg !== 'RS256') return { reason: 'the subject token is not RS256' };
    const candidates = this.keys.filter((k) => k.kid === undefined || k.kid === jwt.header.kid);
    if (!candidates.some((k) => verify('sha256', jwt.signed, k.key, jwt.signature))) return { reason: 'the subject token signature does not verify against the issuer keys' };
    const { iss, aud, exp, sub } = jwt.claims;
    if (iss !== this.config.issuer) return { reason: 'the subject token issuer is not the configured issuer' };
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.some((a) => typeof a === 'string' && this.config.allowedAudiences.includes(a))) return { reason: 'the subject token audience is not allowed' };
    if (typeof exp !== 'number' || exp <= nowMs / 1000) return { reason: 'the subject token expired' };
    if (typeof sub !== 'string' || sub.length === 0) return { reason: 'the subject token has no sub' };
    return { subject: sub };
  }

  exchange(form: URLSearchParams, nowMs: number): HttpReply {
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange') return oauthError(400, 'unsupported_grant_type', 'grant_type');
    if (form.get('requested_token_type') !== 'urn:ietf:params:oauth:token-type:access_token') return oauthError(400, 'invalid_request', 'requested_token_type');
    const subjectType = form.get('subject_token_type');
    if (subjectType !== 'urn:ietf:params:oauth:token-type:jwt' && subjectType !== 'urn:ietf:params:oauth:token-type:id_token') return oauthError(400, 'invalid_request', 'subject_token_type');
    if (form.get('audience') !== this.config.providerAudience) return oauthError(400, 'invalid_target', 'The target service indicated by the "audience" parameters is invalid.');
    if (!(form.get('scope') ?? '').split(' ').includes(CLOUD_PLATFORM_SCOPE)) return oauthError(400, 'invalid_scope', 'scope');
    const checked = this.checkSubjectToken(form.get('subject_token') ?? '', nowMs);
    if ('reason' in checked) {
      this.stats.rejected += 1;
      this.log(`STS refused a subject token: ${checked.reason}`);
      return oauthError(400, 'invalid_grant', 'The subject token is invalid.');
    }
    this.stats.stsExchanges += 1;
    const { token } = this.mint({ kind: 'federated', subject: checked.subject }, nowMs);
    this.log(`STS exchanged a token of ${checked.subject}`);
    return { status: 200, body: { access_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: TOKEN_SECONDS } };
  }

  impersonate(email: string, authorization: string | undefined, trustedEmails: Set<string>, nowMs: number): HttpReply {
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
    const caller = this.verifyAccessToken(bearer, nowMs);
    if (caller?.kind !== 'federated') return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const allowed = this.config.impersonation[email] ?? [];
    if (!trustedEmails.has(email) || !allowed.includes(caller.subject)) {
      this.stats.rejected += 1;
      this.log(`IAM Credentials refused ${caller.subject} impersonating ${email}`);
      return googleError(403, 'PERMISSION_DENIED', `Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).`);
    }
    this.stats.impersonations += 1;
    const { token, exp } = this.mint({ kind: 'serviceAccount', email }, nowMs);
    this.log(`IAM Credentials issued a token of ${email} to ${caller.subject}`);
    return { status: 200, body: { accessToken: token, expireTime: new Date(exp * 1000).toISOString() } };
  }

  /** The HTTPS handler: STS at /v1/token, IAM Credentials at /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken. */
  handle(req: IncomingMessage, res: ServerResponse, trustedEmails: Set<string>): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'https://localhost').pathname;
      const impersonation = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(path);
      let reply: HttpReply;
      if (req.method !== 'POST') reply = googleError(405, 'METHOD_NOT_ALLOWED', 'POST only');
      else if (path === '/v1/token') reply = this.exchange(new URLSearchParams(body), Date.now());
      else if (impersonation?.[1]) reply = this.impersonate(decodeURIComponent(impersonation[1]), req.headers.authorization, trustedEmails, Date.now());
      else reply = googleError(404, 'NOT_FOUND', 'Not found');
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    });
  }
}
