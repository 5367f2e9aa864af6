// A Key Vault test double: the Azure Key Vault secrets REST API (the subset Lockstep and its tests
// use), a Microsoft Entra token endpoint (client secret and federated client assertion), and an
// IMDS-style managed identity endpoint, over HTTPS on 127.0.0.1 with a certificate from a test CA.
//
// Why a double and not lowkey-vault: the lowkey-vault-app jar is not on the Maven Central this
// workplace reaches (see the Azure section of README.md). Unlike lowkey-vault, this double checks
// credentials: tokens are signed, client secrets and federated subjects are checked, and each
// client has Key Vault permissions (get/list/set), so wrong-credential and access-denied paths
// are tested for real. Answers mirror Key Vault's (status codes, error codes, challenge header,
// paging with nextLink, version ids, tags, disabled secrets).
import { createHmac, createPublicKey, createVerify, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface DoubleClient {
  /** A client secret (servicePrincipal). */
  secret?: string;
  /** `system:serviceaccount:NS:NAME` accepted as a federated client assertion (workloadIdentity). */
  federatedSubject?: string;
  /** Whether the IMDS endpoint issues tokens for this client (managedIdentity). */
  managedIdentity?: boolean;
  /** Key Vault secret permissions: get, list, set. */
  permissions: string[];
}

export interface DoubleConfig {
  port: number;
  certFile: string;
  keyFile: string;
  tenantId: string;
  /** HMAC key for issued tokens; stable across restarts so cached tokens stay valid. */
  signingKey: string;
  clients: Record<string, DoubleClient>;
  /** Verifies federated assertions: the issuer and a PEM public key (the ServiceAccount signing key). */
  federation?: { issuer: string; publicKeyFile: string };
  /** Token lifetime in seconds (default 3600). */
  tokenSeconds?: number;
}

interface Version {
  id: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  created: number;
  updated: number;
}

interface Fault {
  status: number;
  count: number;
  delayMs?: number;
  /** vault: Key Vault requests; authority: every Entra request; token: only token requests. */
  target: 'vault' | 'authority' | 'token';
}

const API_VERSIONS = new Set(['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01']);
const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VAULT_RESOURCE = 'https://vault.azure.net';
const PAGE_SIZE = 25;

type Json = Record<string, unknown>;

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function decodeJwt(token: string): { header: Json; payload: Json; signed: string; signature: Buffer } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const [h, p, s] = parts as [string, string, string];
    return {
      header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Json,
      payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Json,
      signed: `${h}.${p}`,
      signature: Buffer.from(s, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

export class KeyVaultDouble {
  private readonly secrets = new Map<string, Version[]>();
  private faults: Fault[] = [];
  readonly stats = { tokenRequests: 0, imdsRequests: 0, vaultRequests: 0, verifiedAssertions: 0, reads: [] as string[] };
  private readonly base: string;

  constructor(private readonly config: DoubleConfig) {
    this.base = `https://127.0.0.1:${config.port}`;
  }

  listen(): Promise<Server> {
    const server = createServer({ cert: readFileSync(this.config.certFile), key: readFileSync(this.config.keyFile) }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.send(res, 500, { error: { code: 'InternalError', message: String(err) } }));
    });
    return new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(this.config.port, '127.0.0.1', () => ok(server));
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const body = await readBody(req);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path.startsWith('/_double/')) return this.control(req.method ?? 'GET', path, body, res);
    if (path === '/metadata/identity/oauth2/token') return this.imds(req, url, res);
    const tokenPath = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(path);
    if (tokenPath) {
      if (await this.applyFault('authority', res)) return;
      if (tokenPath[2]?.startsWith('v2.0')) return this.openidConfiguration(tokenPath[1] as string, res);
      if (await this.applyFault('token', res)) return;
      return this.token(tokenPath[1] as string, new URLSearchParams(body), res);
    }
    if (path === '/secrets' || path.startsWith('/secrets/')) return this.vault(req, url, path, body, res);
    this.send(res, 404, { error: { code: 'NotFound', message: `no route for ${path}` } });
  }

  // ---- test controls -------------------------------------------------------------------------

  private control(method: string, path: string, body: string, res: ServerResponse): void {
    if (path === '/_double/faults' && method === 'POST') {
      this.faults.push(JSON.parse(body) as Fault);
      return this.send(res, 200, { ok: true });
    }
    if (path === '/_double/faults' && method === 'DELETE') {
      this.faults = [];
      return this.send(res, 200, { ok: true });
    }
    if (path === '/_double/stats') return this.send(res, 200, this.stats);
    const del = /^\/_double\/secrets\/([^/]+)$/.exec(path);
    if (del && method === 'DELETE') {
      this.secrets.delete(del[1] as string);
      return this.send(res, 200, { ok: true });
    }
    this.send(res, 404, { error: 'no such control' });
  }

  private async applyFault(target: Fault['target'], res: ServerResponse): Promise<boolean> {
    const fault = this.faults.find((f) => f.target === target && f.count > 0);
    if (!fault) return false;
    fault.count -= 1;
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    const headers = fault.status === 429 ? { 'Retry-After': '0' } : undefined;
    if (target !== 'vault') {
      // Entra's OAuth error shape.
      const error = fault.status === 429 ? 'temporarily_unavailable' : 'server_error';
      const code = fault.status === 429 ? 'AADSTS50196: The server terminated an operation because it encountered a client request loop (throttled).' : 'AADSTS90033: A transient error has occurred. Please try again.';
      this.send(res, fault.status, { error, error_description: code, error_codes: [fault.status === 429 ? 50196 : 90033] }, headers);
    } else {
      const code = fault.status === 429 ? 'Throttled' : 'InternalServerError';
      this.send(res, fault.status, { error: { code, message: `injected fault ${fault.status}` } }, headers);
    }
    return true;
  }

  // ---- Microsoft Entra ------------------------------------------------------------------------

  private openidConfiguration(tenant: string, res: ServerResponse): void {
    if (tenant !== this.config.tenantId) {
      return this.send(res, 400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
    }
    const authority = `${this.base}/${tenant}`;
    this.send(res, 200, {
      token_endpoint: `${authority}/oauth2/v2.0/token`,
      authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
      device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
      jwks_uri: `${authority}/discovery/v2.0/keys`,
      issuer: `${authority}/v2.0`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    });
  }

  private token(tenant: string, form: URLSearchParams, res: ServerResponse): void {
    this.stats.tokenRequests += 1;
    const fail = (status: number, error: string, description: string) =>
      this.send(res, status, { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)] });
    if (tenant !== this.config.tenantId) return fail(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') return fail(400, 'unsupported_grant_type', 'AADSTS70003: unsupported grant type');
    const clientId = form.get('client_id') ?? '';
    const client = this.config.clients[clientId];
    if (!client) return fail(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`);
    const scope = form.get('scope')?.split(' ').find((s) => s.endsWith('/.default'));
    if (!scope) return fail(400, 'invalid_scope', 'AADSTS1002012: The provided value for scope is not valid; use RESOURCE/.default.');
    const problem = form.has('client_assertion') ? this.checkAssertion(client, form.get('client_assertion') ?? '') : this.checkSecret(client, form.get('client_secret'));
    if (problem) return fail(401, 'invalid_client', problem);
    const seconds = this.config.tokenSeconds ?? 3600;
    this.send(res, 200, { token_type: 'Bearer', expires_in: seconds, ext_expires_in: seconds, access_token: this.issue(clientId, scope.slice(0, -'/.default'.length), seconds) });
  }

  private checkSecret(client: DoubleClient, secret: string | null): string | undefined {
    if (!client.secret || !secret) return 'AADSTS7000216: client_assertion or client_secret is required.';
    const a = Buffer.from(secret);
    const b = Buffer.from(client.secret);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return 'AADSTS7000215: Invalid client secret provided.';
    return undefined;
  }

  private checkAssertion(client: DoubleClient, assertion: string): string | undefined {
    const jwt = decodeJwt(assertion);
    if (!jwt) return 'AADSTS50027: JWT token is invalid or malformed.';
    const { payload } = jwt;
    const federation = this.config.federation;
    if (federation) {
      const verifier = createVerify('RSA-SHA256');
      verifier.update(jwt.signed);
      if (jwt.header.alg !== 'RS256' || !verifier.verify(createPublicKey(readFileSync(federation.publicKeyFile)), jwt.signature)) {
        return 'AADSTS700211: the assertion signature does not match a key of the issuer.';
      }
      if (payload.iss !== federation.issuer) return `AADSTS700211: No matching federated identity record found for presented assertion issuer '${String(payload.iss)}'.`;
      this.stats.verifiedAssertions += 1;
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.includes('api://AzureADTokenExchange')) return 'AADSTS700212: No matching federated identity record found for presented assertion audience.';
    if (typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now()) return 'AADSTS700024: Client assertion is not within its valid time range.';
    if (!client.federatedSubject || payload.sub !== client.federatedSubject) {
      return `AADSTS700213: No matching federated identity record found for presented assertion subject '${String(payload.sub)}'.`;
    }
    return undefined;
  }

  private imds(req: IncomingMessage, url: URL, res: ServerResponse): void {
    this.stats.imdsRequests += 1;
    if (req.headers.metadata !== 'true') return this.send(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    const resource = url.searchParams.get('resource');
    if (!resource) return this.send(res, 400, { error: 'invalid_request', error_description: 'Required query variable resource is missing' });
    const requested = url.searchParams.get('client_id');
    const entry = Object.entries(this.config.clients).find(([id, c]) => c.managedIdentity && (!requested || requested === id));
    if (!entry) return this.send(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });
    const seconds = this.config.tokenSeconds ?? 3600;
    const expiresOn = Math.floor(Date.now() / 1000) + seconds;
    this.send(res, 200, {
      access_token: this.issue(entry[0], resource.replace(/\/$/, ''), seconds),
      expires_on: String(expiresOn),
      expires_in: String(seconds),
      not_before: String(expiresOn - seconds),
      resource,
      token_type: 'Bearer',
      client_id: entry[0],
    });
  }

  private issue(clientId: string, audience: string, seconds: number): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = b64url(JSON.stringify({
      aud: audience, iss: `https://sts.windows.net/${this.config.tenantId}/`, tid: this.config.tenantId,
      appid: clientId, oid: clientId, iat: now, nbf: now, exp: now + seconds, jti: randomBytes(8).toString('hex'),
    }));
    const signature = createHmac('sha256', this.config.signingKey).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  }

  // ---- Key Vault -----------------------------------------------------------------------------

  private challenge(): Record<string, string> {
    return { 'WWW-Authenticate': `Bearer authorization="${this.base}/${this.config.tenantId}", resource="${VAULT_RESOURCE}"` };
  }

  /** The caller's client ID, or undefined after answering 401. */
  private authenticate(req: IncomingMessage, res: ServerResponse): string | undefined {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) {
      this.send(res, 401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }, this.challenge());
      return undefined;
    }
    const jwt = decodeJwt(header.slice('Bearer '.length));
    const expected = jwt && createHmac('sha256', this.config.signingKey).update(jwt.signed).digest();
    const reject = (message: string) => {
      this.send(res, 401, { error: { code: 'Unauthorized', message } }, this.challenge());
      return undefined;
    };
    if (!jwt || !expected || expected.length !== jwt.signature.length || !timingSafeEqual(expected, jwt.signature)) {
      return reject('AKV10032: Invalid issuer or signature.');
    }
    if (jwt.payload.aud !== VAULT_RESOURCE) return reject(`AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}, found: ${String(jwt.payload.aud)}.`);
    if (typeof jwt.payload.exp !== 'number' || jwt.payload.exp * 1000 < Date.now()) return reject('AKV10017: Token has expired.');
    return String(jwt.payload.appid);
  }

  private authorize(clientId: string, permission: string, res: ServerResponse): boolean {
    if (this.config.clients[clientId]?.permissions.includes(permission)) return true;
    this.send(res, 403, {
      error: {
        code: 'Forbidden',
        message: `The user, group or application 'appid=${clientId}' does not have secrets ${permission} permission on key vault '${this.base}'.`,
        innererror: { code: 'AccessDenied' },
      },
    });
    return false;
  }

  private async vault(req: IncomingMessage, url: URL, path: string, body: string, res: ServerResponse): Promise<void> {
    this.stats.vaultRequests += 1;
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion || !API_VERSIONS.has(apiVersion)) {
      return this.send(res, 400, { error: { code: 'BadParameter', message: `The specified version (${apiVersion ?? ''}) is not recognized.` } });
    }
    const clientId = this.authenticate(req, res);
    if (!clientId) return;
    if (await this.applyFault('vault', res)) return;
    const [, , name, second] = path.split('/').map(decodeURIComponent) as [string, string, string | undefined, string | undefined];
    const method = req.method ?? 'GET';
    if (name === undefined) {
      if (method === 'GET' && this.authorize(clientId, 'list', res)) this.list(url, res);
      return;
    }
    if (!NAME.test(name)) return this.send(res, 400, { error: { code: 'BadParameter', message: `Invalid secret name '${name}'.` } });
    if (method === 'PUT' && second === undefined) {
      if (this.authorize(clientId, 'set', res)) this.set(name, JSON.parse(body || '{}') as Json, res);
      return;
    }
    if (method === 'GET' && second === 'versions') {
      if (this.authorize(clientId, 'list', res)) this.listVersions(name, res);
      return;
    }
    if (method === 'GET') {
      if (this.authorize(clientId, 'get', res)) this.get(name, second || undefined, res);
      return;
    }
    if (method === 'PATCH' && second) {
      if (this.authorize(clientId, 'set', res)) this.update(name, second, JSON.parse(body || '{}') as Json, res);
      return;
    }
    this.send(res, 405, { error: { code: 'MethodNotAllowed', message: `${method} ${path}` } });
  }

  private set(name: string, body: Json, res: ServerResponse): void {
    if (typeof body.value !== 'string') return this.send(res, 400, { error: { code: 'BadParameter', message: 'Property value is required.' } });
    const attributes = (body.attributes ?? {}) as Json;
    const now = Math.floor(Date.now() / 1000);
    const version: Version = {
      id: randomBytes(16).toString('hex'),
      value: body.value,
      contentType: typeof body.contentType === 'string' ? body.contentType : undefined,
      tags: (body.tags as Record<string, string> | undefined) ?? undefined,
      enabled: attributes.enabled !== false,
      created: now,
      updated: now,
    };
    const versions = this.secrets.get(name) ?? [];
    versions.push(version);
    this.secrets.set(name, versions);
    this.send(res, 200, this.bundle(name, version));
  }

  private find(name: string, versionId: string | undefined, res: ServerResponse): Version | undefined {
    const versions = this.secrets.get(name);
    const version = versionId ? versions?.find((v) => v.id === versionId) : versions?.at(-1);
    if (!version) {
      const id = versionId ? `${name}/${versionId}` : name;
      this.send(res, 404, { error: { code: 'SecretNotFound', message: `A secret with (name/id) ${id} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182` } });
    }
    return version;
  }

  private get(name: string, versionId: string | undefined, res: ServerResponse): void {
    const version = this.find(name, versionId, res);
    if (!version) return;
    if (!version.enabled) {
      return this.send(res, 403, { error: { code: 'Forbidden', message: 'Operation get is not allowed on a disabled secret.', innererror: { code: 'SecretDisabled' } } });
    }
    this.stats.reads.push(name);
    this.send(res, 200, this.bundle(name, version));
  }

  private update(name: string, versionId: string, body: Json, res: ServerResponse): void {
    const version = this.find(name, versionId, res);
    if (!version) return;
    const attributes = (body.attributes ?? {}) as Json;
    if (typeof attributes.enabled === 'boolean') version.enabled = attributes.enabled;
    if (body.tags) version.tags = body.tags as Record<string, string>;
    if (typeof body.contentType === 'string') version.contentType = body.contentType;
    version.updated = Math.floor(Date.now() / 1000);
    const { value: _value, ...withoutValue } = this.bundle(name, version);
    this.send(res, 200, withoutValue);
  }

  private list(url: URL, res: ServerResponse): void {
    const names = [...this.secrets.keys()].sort();
    const size = Math.min(Number(url.searchParams.get('maxresults') ?? PAGE_SIZE) || PAGE_SIZE, PAGE_SIZE);
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    const page = names.slice(skip, skip + size);
    const value = page.map((name) => this.item(`${this.base}/secrets/${name}`, this.secrets.get(name)?.at(-1) as Version));
    const next = skip + size < names.length ? `${this.base}/secrets?api-version=${url.searchParams.get('api-version')}&maxresults=${size}&$skiptoken=${skip + size}` : null;
    this.send(res, 200, { value, nextLink: next });
  }

  private listVersions(name: string, res: ServerResponse): void {
    const versions = this.secrets.get(name) ?? [];
    this.send(res, 200, { value: versions.map((v) => this.item(`${this.base}/secrets/${name}/${v.id}`, v)), nextLink: null });
  }

  private item(id: string, v: Version): Json {
    return {
      id,
      attributes: { enabled: v.enabled, created: v.created, updated: v.updated, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
      ...(v.tags ? { tags: v.tags } : {}),
      ...(v.contentType ? { contentType: v.contentType } : {}),
    };
  }

  private bundle(name: string, v: Version): Json {
    return { value: v.value, ...this.item(`${this.base}/secrets/${name}/${v.id}`, v) };
  }

  private send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}
