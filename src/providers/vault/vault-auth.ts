/**
 * The ways a store logs in to Vault. Each method fetches its credential when it logs in (so a
 * rotated SecretID or a fresh ServiceAccount token is used at the next login), registers every
 * credential and token with the scrubber, and returns the Vault token with its lease.
 */
import { readFile } from 'node:fs/promises';
import type { VaultAuth } from '../../api/providers/vault.js';
import type { ServiceAccountSelector } from '../../api/common.js';
import type { StoreContext } from '../provider.js';
import { AuthError, InvalidConfigError } from '../provider-errors.js';
import type { VaultApi } from './vault-api.js';
import type { ClientCertificate } from './vault-transport.js';
import { checkCertificatePair } from './vault-client-tls.js';
import { mapVaultError } from './vault-errors.js';

export interface VaultLogin {
  token: string;
  /** Seconds the token lives; 0 when it does not expire or the lease is unknown (a token given as is). */
  leaseSeconds: number;
  renewable: boolean;
}

export interface VaultAuthMethod {
  /** Names the method and mount for logs and messages, e.g. "approle (auth/approle)". */
  readonly description: string;
  /** Whether logins create tokens this client owns (revoked on close); false for a token given as is. */
  readonly issuesTokens: boolean;
  login(api: VaultApi, signal: AbortSignal): Promise<VaultLogin>;
}

/** The auth methods a store may set, for messages. */
export const VAULT_AUTH_METHODS = 'tokenSecretRef, appRole, kubernetes, jwt, userPass, ldap or cert';

export interface AuthDeps {
  /** The operator's own ServiceAccount token, for a ClusterSecretStore's kubernetes auth without serviceAccountRef. */
  readOwnToken?: () => Promise<string>;
}

/** Lifetime asked for ServiceAccount tokens: the TokenRequest minimum; each is used for one login. */
const SERVICE_ACCOUNT_TOKEN_SECONDS = 600;
const OWN_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function parseLogin(body: unknown, description: string): VaultLogin {
  const auth = (body as { auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } } | undefined)?.auth;
  if (typeof auth?.client_token !== 'string' || auth.client_token === '') {
    throw new AuthError(`logging in with ${description}: Vault returned no client token`);
  }
  const lease = typeof auth.lease_duration === 'number' ? auth.lease_duration : 0;
  return { token: auth.client_token, leaseSeconds: lease, renewable: auth.renewable === true };
}

function loginWith(description: string, path: string, body: () => Promise<object>, ctx: StoreContext, endpoint = `auth/${path}/login`): VaultAuthMethod {
  return {
    description,
    issuesTokens: true,
    async login(api, signal) {
      const payload = await body();
      const response = await api
        .write(endpoint, payload, { signal })
        .catch((err: unknown) => Promise.reject(mapVaultError(err, `logging in with ${description}`, 'login')));
      const login = parseLogin(response, description);
      ctx.scrubber.add(login.token);
      return login;
    },
  };
}

function staticToken(ref: NonNullable<VaultAuth['tokenSecretRef']>, ctx: StoreContext): VaultAuthMethod {
  return {
    description: `the token in Secret '${ref.name}' key '${ref.key}'`,
    issuesTokens: false,
    async login() {
      const token = (await ctx.credentials.readSecretKey(ref)).trim();
      ctx.scrubber.add(token);
      if (token === '') throw new InvalidConfigError(`Secret '${ref.name}' key '${ref.key}' holds an empty Vault token`);
      return { token, leaseSeconds: 0, renewable: false };
    },
  };
}

async function serviceAccountToken(ref: ServiceAccountSelector, ctx: StoreContext): Promise<string> {
  const { token } = await ctx.credentials.requestServiceAccountToken({
    name: ref.name,
    namespace: ref.namespace,
    audiences: ref.audiences,
    expirationSeconds: SERVICE_ACCOUNT_TOKEN_SECONDS,
  });
  ctx.scrubber.add(token);
  return token;
}

function kubernetesJwtSource(spec: NonNullable<VaultAuth['kubernetes']>, ctx: StoreContext, deps: AuthDeps): () => Promise<string> {
  const ref = spec.serviceAccountRef;
  if (ref) return () => serviceAccountToken(ref, ctx);
  if (ctx.storeKind !== 'ClusterSecretStore') {
    throw new InvalidConfigError(
      "kubernetes auth needs serviceAccountRef: only a ClusterSecretStore may log in as the operator's own ServiceAccount",
    );
  }
  const readOwn = deps.readOwnToken ?? (() => readFile(OWN_TOKEN_PATH, 'utf8'));
  return async () => {
    const token = (await readOwn()).trim();
    ctx.scrubber.add(token);
    return token;
  };
}

/** The login method a store's `auth` selects. Throws InvalidConfigError when none (or a forbidden one) is set. */
export function buildAuthMethod(auth: VaultAuth, ctx: StoreContext, deps: AuthDeps = {}): VaultAuthMethod {
  if (auth.tokenSecretRef) return staticToken(auth.tokenSecretRef, ctx);
  if (auth.appRole) {
    const { roleId, secretRef } = auth.appRole;
    const path = auth.appRole.path ?? 'approle';
    const secretId = async () => {
      const value = await ctx.credentials.readSecretKey(secretRef);
      ctx.scrubber.add(value);
      return value.trim();
    };
    return loginWith(`approle (auth/${path})`, path, async () => ({ role_id: roleId, secret_id: await secretId() }), ctx);
  }
  if (auth.kubernetes) {
    const { role } = auth.kubernetes;
    const path = auth.kubernetes.mountPath ?? 'kubernetes';
    const jwt = kubernetesJwtSource(auth.kubernetes, ctx, deps);
    return loginWith(`kubernetes role '${role}' (auth/${path})`, path, async () => ({ role, jwt: await jwt() }), ctx);
  }
  if (auth.jwt) {
    const { role, serviceAccountRef } = auth.jwt;
    const path = auth.jwt.path ?? 'jwt';
    const description = `jwt${role ? ` role '${role}'` : ''} (auth/${path})`;
    return loginWith(description, path, async () => ({ ...(role ? { role } : {}), jwt: await serviceAccountToken(serviceAccountRef, ctx) }), ctx);
  }
  if (auth.userPass) return passwordLogin('userpass', auth.userPass, ctx);
  if (auth.ldap) return passwordLogin('ldap', auth.ldap, ctx);
  if (auth.cert) return certLogin(auth.cert, ctx);
  throw new InvalidConfigError(`vault auth: set exactly one of ${VAULT_AUTH_METHODS}`);
}

/** userpass and LDAP: POST auth/PATH/login/USERNAME { password }, the password read again at every login. */
function passwordLogin(method: 'userpass' | 'ldap', spec: NonNullable<VaultAuth['userPass']>, ctx: StoreContext): VaultAuthMethod {
  const path = spec.path ?? method;
  const password = async () => {
    const value = await ctx.credentials.readSecretKey(spec.secretRef);
    ctx.scrubber.add(value);
    return value.trim();
  };
  const description = `${method} user '${spec.username}' (auth/${path})`;
  return loginWith(description, path, async () => ({ password: await password() }), ctx, `auth/${path}/login/${encodeURIComponent(spec.username)}`);
}

/** auth.cert's certificate and key from their Secrets, checked to be PEM and a pair. */
export function parseClientCertificate(certPem: string, keyPem: string, refs: NonNullable<VaultAuth['cert']>): ClientCertificate {
  return checkCertificatePair('cert auth', certPem, keyPem, refs.clientCert, refs.secretRef);
}

/** TLS certificate auth: POST auth/PATH/login { name? } on a connection that presents the client certificate. */
function certLogin(spec: NonNullable<VaultAuth['cert']>, ctx: StoreContext): VaultAuthMethod {
  const path = spec.path ?? 'cert';
  const description = `cert${spec.role ? ` role '${spec.role}'` : ''} (auth/${path})`;
  return {
    description,
    issuesTokens: true,
    async login(api, signal) {
      const [certPem, keyPem] = await Promise.all([ctx.credentials.readSecretKey(spec.clientCert), ctx.credentials.readSecretKey(spec.secretRef)]);
      ctx.scrubber.add(keyPem.trim());
      const clientCert = parseClientCertificate(certPem, keyPem, spec);
      const response = await api
        .write(`auth/${path}/login`, spec.role ? { name: spec.role } : {}, { signal, clientCert })
        .catch((err: unknown) => Promise.reject(mapVaultError(err, `logging in with ${description}`, 'login')));
      const login = parseLogin(response, description);
      ctx.scrubber.add(login.token);
      return login;
    },
  };
}
