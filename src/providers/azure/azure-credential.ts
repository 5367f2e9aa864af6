/**
 * Builds the store's Microsoft Entra credential: one TokenCredential per store, created at connect.
 * Access tokens are cached by the Key Vault pipeline and renewed only when they near expiry.
 * There is no default credential chain: the store names exactly one method.
 */
import type https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import {
  AzureAuthorityHosts,
  ClientAssertionCredential,
  type ClientAssertionCredentialOptions,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from '@azure/identity';
import type { ServiceAccountSelector } from '../../api/common.js';
import type { AzureEnvironmentType, AzureProviderSpec } from '../../api/providers/azure.js';
import type { StoreContext } from '../provider.js';
import { networkOf } from '../store-network.js';
import { InvalidConfigError, isProviderError, UnavailableError } from '../provider-errors.js';
import { ImdsEndpointCredential } from './imds-endpoint-credential.js';

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const SERVICE_ACCOUNT_TOKEN_SECONDS = 600;

const AUTHORITY_HOSTS: Record<AzureEnvironmentType, string> = {
  PublicCloud: AzureAuthorityHosts.AzurePublicCloud,
  USGovernmentCloud: AzureAuthorityHosts.AzureGovernment,
  ChinaCloud: AzureAuthorityHosts.AzureChina,
};

/** TLS options that trust the public roots plus the store's caBundle, or undefined for Node's defaults. */
export function buildTlsOptions(caBundle: string | undefined): { ca: string[] } | undefined {
  return caBundle ? { ca: [...rootCertificates, caBundle] } : undefined;
}

/** The authority host, and whether it is a cloud MSAL knows (else instance discovery is skipped). */
export function resolveAuthority(config: AzureProviderSpec): { authorityHost: string; known: boolean } {
  if (config.authorityHost) {
    const host = config.authorityHost.replace(/\/+$/, '');
    return { authorityHost: host, known: Object.values(AUTHORITY_HOSTS).includes(host) };
  }
  return { authorityHost: AUTHORITY_HOSTS[config.environmentType ?? 'PublicCloud'], known: true };
}

/** A ServiceAccount token for the token exchange; API server failures become provider errors here. */
function serviceAccountAssertion(sa: ServiceAccountSelector, ctx: StoreContext): () => Promise<string> {
  const where = `ServiceAccount '${sa.namespace ? `${sa.namespace}/` : ''}${sa.name}'`;
  return async () => {
    try {
      const issued = await ctx.credentials.requestServiceAccountToken({
        name: sa.name,
        namespace: sa.namespace,
        audiences: sa.audiences ?? [TOKEN_EXCHANGE_AUDIENCE],
        expirationSeconds: SERVICE_ACCOUNT_TOKEN_SECONDS,
      });
      ctx.scrubber.add(issued.token);
      return issued.token;
    } catch (err) {
      // The credential source already classifies API server failures (a missing ServiceAccount is a config error).
      if (isProviderError(err)) throw err;
      throw new UnavailableError(`azure: cannot request a token for ${where}`, { cause: err });
    }
  };
}

/**
 * ClientAssertionCredential that surfaces the assertion callback's own error: MSAL wraps it into
 * an error that keeps only its message, which would turn a missing ServiceAccount into "auth failed".
 */
class FederatedCredential implements TokenCredential {
  private failure: unknown;
  private readonly inner: ClientAssertionCredential;

  constructor(tenantId: string, clientId: string, assertion: () => Promise<string>, options: ClientAssertionCredentialOptions) {
    const remembering = async () => {
      try {
        return await assertion();
      } catch (err) {
        this.failure = err;
        throw err;
      }
    };
    this.inner = new ClientAssertionCredential(tenantId, clientId, remembering, options);
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.failure = undefined;
    try {
      return await this.inner.getToken(scopes, options);
    } catch (err) {
      throw this.failure ?? err;
    }
  }
}

function requireTenant(config: AzureProviderSpec, method: string): string {
  if (!config.tenantId) throw new InvalidConfigError(`azure: auth.${method} needs tenantId`);
  return config.tenantId;
}

/** A keep-alive https agent through the store's network (checked for a SecretStore) trusting the store's CAs. */
export function buildAgent(config: AzureProviderSpec, ctx: Pick<StoreContext, 'network' | 'storeKind'>): https.Agent {
  return networkOf(ctx).httpsAgent({ keepAlive: true, ...buildTlsOptions(config.caBundle) });
}

export async function buildCredential(config: AzureProviderSpec, ctx: StoreContext, agent = buildAgent(config, ctx)): Promise<TokenCredential> {
  const { authorityHost, known } = resolveAuthority(config);
  const tlsOptions = buildTlsOptions(config.caBundle);
  const common = { authorityHost, disableInstanceDiscovery: !known, tlsOptions, agent, retryOptions: { maxRetries: 1 } };
  const { servicePrincipal, managedIdentity, workloadIdentity } = config.auth;
  if (servicePrincipal) {
    const tenantId = requireTenant(config, 'servicePrincipal');
    const clientId = (await ctx.credentials.readSecretKey(servicePrincipal.clientIdSecretRef)).trim();
    const clientSecret = (await ctx.credentials.readSecretKey(servicePrincipal.clientSecretSecretRef)).trim();
    ctx.scrubber.add(clientSecret);
    return new ClientSecretCredential(tenantId, clientId, clientSecret, common);
  }
  if (workloadIdentity) {
    const tenantId = requireTenant(config, 'workloadIdentity');
    return new FederatedCredential(tenantId, workloadIdentity.clientId, serviceAccountAssertion(workloadIdentity.serviceAccountRef, ctx), common);
  }
  if (managedIdentity) {
    if (managedIdentity.endpoint) {
      const network = networkOf(ctx);
      return new ImdsEndpointCredential({ endpoint: managedIdentity.endpoint, clientId: managedIdentity.clientId, tlsOptions, scrubber: ctx.scrubber, network });
    }
    const options = { retryOptions: { maxRetries: 1 }, tlsOptions, agent };
    return managedIdentity.clientId ? new ManagedIdentityCredential({ clientId: managedIdentity.clientId, ...options }) : new ManagedIdentityCredential(options);
  }
  throw new InvalidConfigError('azure: set exactly one of auth.servicePrincipal, auth.managedIdentity, auth.workloadIdentity');
}
