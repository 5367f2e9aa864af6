import { rootCertificates } from 'node:tls';
import { AzureProviderSpec } from '../../api/providers/azure.js';
import { resolveAuthority } from './azure-credential.js';
import { azureProvider, buildSecretClientOptions, KEY_VAULT_API_VERSION } from './azure-provider.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const sp = { servicePrincipal: { clientIdSecretRef: { name: 'az', key: 'id' }, clientSecretSecretRef: { name: 'az', key: 'secret' } } };

function spec(extra: Record<string, unknown> = {}): AzureProviderSpec {
  return AzureProviderSpec.parse({ vaultUrl: 'https://my-vault.vault.azure.net', tenantId: 'contoso.onmicrosoft.com', auth: sp, ...extra });
}

describe('AzureProviderSpec', () => {
  it('accepts each auth method and rejects a plain-http vault URL or a path', () => {
    expect(spec().auth.servicePrincipal?.clientIdSecretRef.name).toBe('az');
    expect(spec({ auth: { managedIdentity: {} } }).auth.managedIdentity).toEqual({});
    expect(spec({ auth: { workloadIdentity: { serviceAccountRef: { name: 'sa' }, clientId: '00000000-0000-4000-8000-000000000001' } } }).auth.workloadIdentity?.clientId).toBeDefined();
    expect(AzureProviderSpec.safeParse({ vaultUrl: 'http://my-vault.vault.azure.net', auth: sp }).success).toBe(false);
    expect(AzureProviderSpec.safeParse({ vaultUrl: 'https://my-vault.vault.azure.net/secrets', auth: sp }).success).toBe(false);
    expect(AzureProviderSpec.safeParse({ vaultUrl: 'https://v.vault.azure.net', environmentType: 'MarsCloud', auth: sp }).success).toBe(false);
  });
});

describe('azureProvider.validateConfig', () => {
  it('accepts a complete store', () => {
    expect(azureProvider.validateConfig(spec())).toEqual([]);
    expect(azureProvider.validateConfig(spec({ tenantId: undefined, auth: { managedIdentity: { clientId: '00000000-0000-4000-8000-000000000001' } } }))).toEqual([]);
  });

  it('names what to fix', () => {
    expect(azureProvider.validateConfig(spec({ tenantId: undefined }))).toEqual(['tenantId is required with auth.servicePrincipal']);
    expect(azureProvider.validateConfig(spec({ auth: { ...sp, managedIdentity: {} } }))[0]).toMatch(/exactly one/);
    expect(azureProvider.validateConfig(spec({ environmentType: 'ChinaCloud', authorityHost: 'https://login.example' }))).toEqual(['set environmentType or authorityHost, not both']);
    expect(azureProvider.validateConfig(spec({ caBundle: 'not a pem' }))[0]).toMatch(/PEM/);
  });
});

describe('client options', () => {
  it('pins the API version, keeps challenge verification on, retries little', () => {
    const options = buildSecretClientOptions(spec());
    expect(options.serviceVersion).toBe(KEY_VAULT_API_VERSION);
    expect(options.disableChallengeResourceVerification).toBe(false);
    expect(options.retryOptions?.maxRetries).toBeLessThanOrEqual(2);
    expect(options.tlsOptions).toBeUndefined();
  });

  it('adds the caBundle to the public roots rather than replacing them', () => {
    const ca = buildSecretClientOptions(spec({ caBundle: PEM, disableChallengeResourceVerification: true })).tlsOptions?.ca as string[];
    expect(ca).toHaveLength(rootCertificates.length + 1);
    expect(ca.at(-1)).toBe(PEM);
    expect(buildSecretClientOptions(spec({ disableChallengeResourceVerification: true })).disableChallengeResourceVerification).toBe(true);
  });

  it('resolves the authority host from environmentType or authorityHost', () => {
    expect(resolveAuthority(spec())).toEqual({ authorityHost: 'https://login.microsoftonline.com', known: true });
    expect(resolveAuthority(spec({ environmentType: 'ChinaCloud' })).authorityHost).toBe('https://login.chinacloudapi.cn');
    expect(resolveAuthority(spec({ environmentType: 'USGovernmentCloud' })).authorityHost).toBe('https://login.microsoftonline.us');
    expect(resolveAuthority(spec({ authorityHost: 'https://127.0.0.1:8443/' }))).toEqual({ authorityHost: 'https://127.0.0.1:8443', known: false });
  });
});
