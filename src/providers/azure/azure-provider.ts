/** The `azure` provider: Azure Key Vault secrets through @azure/keyvault-secrets and @azure/identity. */
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import type { AzureProviderSpec } from '../../api/providers/azure.js';
import type { Agent } from 'node:http';
import type { Provider, RequestBudget, StoreAccess } from '../provider.js';
import { buildAgent, buildCredential, buildTlsOptions, TOKEN_EXCHANGE_AUDIENCE } from './azure-credential.js';
import { AzureSecretsClient } from './azure-secrets-client.js';

/** The Key Vault REST API version Lockstep speaks; every Key Vault and its emulators know it. */
export const KEY_VAULT_API_VERSION = '7.5';
/** Few SDK retries: the operator backs off per key itself. */
const RETRY_OPTIONS = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };

export function validateAzureConfig(config: AzureProviderSpec): string[] {
  const problems: string[] = [];
  const { auth } = config;
  const methods = Object.keys(auth).filter((k) => auth[k as keyof typeof auth] !== undefined);
  if (methods.length !== 1) problems.push(`set exactly one of auth.servicePrincipal, auth.managedIdentity, auth.workloadIdentity (found ${methods.length})`);
  if ((auth.servicePrincipal || auth.workloadIdentity) && !config.tenantId) {
    problems.push(`tenantId is required with auth.${auth.servicePrincipal ? 'servicePrincipal' : 'workloadIdentity'}`);
  }
  if (config.environmentType && config.authorityHost) problems.push('set environmentType or authorityHost, not both');
  try {
    const url = new URL(config.vaultUrl);
    if (url.protocol !== 'https:') problems.push('vaultUrl must be an https URL');
    if (url.pathname !== '/' || url.search) problems.push('vaultUrl is the vault URI without a path, e.g. https://my-vault.vault.azure.net');
  } catch {
    problems.push(`vaultUrl '${config.vaultUrl}' is not a URL`);
  }
  if (config.caBundle !== undefined && !config.caBundle.includes('-----BEGIN CERTIFICATE-----')) {
    problems.push('caBundle must hold PEM certificates (-----BEGIN CERTIFICATE-----)');
  }
  return problems;
}

/** The vault, the authority host, a managed identity (the operator's own) and the workload identity token. */
export function describeAzureAccess(config: AzureProviderSpec): StoreAccess {
  const field = 'spec.provider.azure';
  const endpoints = [{ field: `${field}.vaultUrl`, endpoint: config.vaultUrl }];
  if (config.authorityHost) endpoints.push({ field: `${field}.authorityHost`, endpoint: config.authorityHost });
  const { managedIdentity, workloadIdentity } = config.auth;
  if (managedIdentity?.endpoint) endpoints.push({ field: `${field}.auth.managedIdentity.endpoint`, endpoint: managedIdentity.endpoint });
  const ambient = managedIdentity
    ? { field: `${field}.auth.managedIdentity`, what: 'the managed identity of the node or pod the operator runs on', instead: 'auth.servicePrincipal or auth.workloadIdentity' }
    : undefined;
  const tokens = workloadIdentity
    ? [{ field: `${field}.auth.workloadIdentity.serviceAccountRef`, audiences: workloadIdentity.serviceAccountRef.audiences ?? [TOKEN_EXCHANGE_AUDIENCE] }]
    : [];
  return { endpoints, ambientIdentity: ambient, tokens };
}

export function buildSecretClientOptions(config: AzureProviderSpec, budget?: RequestBudget, agent?: Agent): SecretClientOptions {
  return {
    agent,
    // One token per Key Vault HTTP request (a page of a listing is one), as Key Vault's own
    // throttling counts them. With a budget the SDK does not retry: its retries would either skip
    // the budget (perCall) or wait for tokens inside one call until its deadline passed
    // (perRetry); the operator's own per-key backoff retries within the budget instead.
    additionalPolicies: budget
      ? [{ position: 'perRetry', policy: { name: 'lockstepRequestBudget', sendRequest: async (request, next) => (await budget.take(), next(request)) } }]
      : undefined,
    serviceVersion: KEY_VAULT_API_VERSION,
    disableChallengeResourceVerification: config.disableChallengeResourceVerification === true,
    retryOptions: budget ? { ...RETRY_OPTIONS, maxRetries: 0 } : RETRY_OPTIONS,
    tlsOptions: buildTlsOptions(config.caBundle),
    userAgentOptions: { userAgentPrefix: 'lockstep' },
  };
}

export const azureProvider: Provider<AzureProviderSpec> = {
  name: 'azure',
  readsMetadata: true,
  validateConfig: validateAzureConfig,
  describeAccess: describeAzureAccess,
  async connect(config, ctx) {
    const agent = buildAgent(config, ctx);
    const credential = await buildCredential(config, ctx, agent);
    const client = new SecretClient(config.vaultUrl.replace(/\/+$/, ''), credential, buildSecretClientOptions(config, ctx.budget, agent));
    return new AzureSecretsClient(client, () => agent.destroy());
  },
};
