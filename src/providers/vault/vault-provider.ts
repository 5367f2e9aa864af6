/** The `vault` provider: HashiCorp Vault or OpenBao, KV secrets engine v1 or v2. */
import type { VaultProviderSpec } from '../../api/providers/vault.js';
import type { Provider, RequestedToken, SecretsClient, StoreAccess, StoreContext } from '../provider.js';
import { InvalidConfigError } from '../provider-errors.js';
import { networkOf } from '../store-network.js';
import { createVaultApi, type VaultApi, type VaultApiOptions } from './vault-api.js';
import { type AuthDeps, buildAuthMethod, VAULT_AUTH_METHODS } from './vault-auth.js';
import { VaultSecretsClient } from './vault-client.js';
import { ClientTlsSource, readClientTls, refreshingClientTls } from './vault-client-tls.js';
import { KvPaths } from './vault-kv.js';
import { VaultSession } from './vault-session.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** The PEM text of a store's caBundle (base64 of PEM), or a message saying what is wrong with it. */
export function parseCaBundle(caBundle: string): { pem: string } | { problem: string } {
  const pem = Buffer.from(caBundle, 'base64').toString('utf8');
  return PEM_CERTIFICATE.test(pem)
    ? { pem }
    : { problem: 'caBundle must be the base64 encoding of one or more PEM certificates (`base64 -w0 ca.pem`)' };
}

function serverProblems(server: string): string[] {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return [`server '${server}' is not a URL`];
  }
  const problems: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`server '${server}' must be an http(s) URL`);
  if (url.search || url.hash) problems.push(`server '${server}' must not have a query or fragment`);
  return problems;
}

export interface VaultProviderDeps extends AuthDeps {
  /** Replaces the HTTP API (unit tests). */
  createApi?: (opts: VaultApiOptions) => VaultApi;
  now?: () => number;
}

export function validateVaultConfig(config: VaultProviderSpec): string[] {
  const problems = serverProblems(config.server);
  if (config.caBundle !== undefined) {
    const ca = parseCaBundle(config.caBundle);
    if ('problem' in ca) problems.push(ca.problem);
    if (config.server.startsWith('http:')) problems.push('caBundle is set but server is plain http');
  }
  const methods = Object.values(config.auth).filter((v) => v !== undefined);
  if (methods.length !== 1) problems.push(`auth must set exactly one of ${VAULT_AUTH_METHODS}`);
  if (config.auth.cert && config.server.startsWith('http:')) problems.push('auth.cert needs an https server: the client certificate is presented in the TLS handshake');
  if (config.tls && config.server.startsWith('http:')) problems.push('tls needs an https server: the client certificate is presented in the TLS handshake');
  return problems;
}

export function connectVault(config: VaultProviderSpec, ctx: StoreContext, deps: VaultProviderDeps = {}): SecretsClient {
  const problems = validateVaultConfig(config);
  if (problems.length > 0) throw new InvalidConfigError(problems.join('; '));
  const ca = config.caBundle === undefined ? undefined : parseCaBundle(config.caBundle);
  const tls = config.tls;
  const clientTls = tls ? new ClientTlsSource(() => readClientTls(tls, ctx), deps.now) : undefined;
  const auth = buildAuthMethod(config.auth, ctx, deps);
  const method = clientTls ? refreshingClientTls(auth, clientTls) : auth;
  const api = (deps.createApi ?? createVaultApi)({
    server: config.server.replace(/\/+$/, ''),
    namespace: config.namespace,
    caPem: ca && 'pem' in ca ? ca.pem : undefined,
    budget: ctx.budget,
    network: networkOf(ctx),
    clientTls,
  });
  const session = new VaultSession(api, method, { log: ctx.log, now: deps.now });
  return new VaultSecretsClient(api, session, new KvPaths(config.path, config.version ?? 'v2'));
}

/** The server, the tokens its logins request, and whether it logs in as the operator itself. */
export function describeVaultAccess(config: VaultProviderSpec): StoreAccess {
  const field = 'spec.provider.vault';
  const { kubernetes, jwt } = config.auth;
  const tokens: RequestedToken[] = [];
  if (kubernetes?.serviceAccountRef) {
    tokens.push({ field: `${field}.auth.kubernetes.serviceAccountRef`, audiences: kubernetes.serviceAccountRef.audiences ?? [] });
  }
  if (jwt) tokens.push({ field: `${field}.auth.jwt.serviceAccountRef`, audiences: jwt.serviceAccountRef.audiences ?? [] });
  const ambient = kubernetes && !kubernetes.serviceAccountRef
    ? {
        field: `${field}.auth.kubernetes`,
        what: "the operator's own ServiceAccount (kubernetes auth without serviceAccountRef)",
        instead: 'auth.kubernetes.serviceAccountRef, auth.jwt, auth.appRole or auth.tokenSecretRef',
      }
    : undefined;
  return { endpoints: [{ field: `${field}.server`, endpoint: config.server }], ambientIdentity: ambient, tokens };
}

/** The provider, with its dependencies injectable for tests. */
export function createVaultProvider(deps: VaultProviderDeps = {}): Provider<VaultProviderSpec> {
  return {
    name: 'vault',
    readsMetadata: true,
    validateConfig: validateVaultConfig,
    describeAccess: describeVaultAccess,
    // Connecting makes no request: the first call logs in, so a store with a Vault outage still gets a client.
    connect: (config, ctx) => Promise.resolve().then(() => connectVault(config, ctx, deps)),
  };
}

export const vaultProvider: Provider<VaultProviderSpec> = createVaultProvider();
