import { EndpointPolicy } from './endpoint-policy.js';
import { NotAllowedError } from './provider-errors.js';
import { awsProvider } from './aws/aws-provider.js';
import { azureProvider } from './azure/azure-provider.js';
import { gcpProvider } from './gcp/gcp-provider.js';
import { vaultProvider } from './vault/vault-provider.js';
import type { StoreAccess } from './provider.js';
import { checkStoreAccess, checkTokenAudiences } from './tenant-policy.js';

const policy = {
  endpoints: new EndpointPolicy([{ host: '127.0.0.1', port: 6443 }]),
  apiserverAudiences: () => Promise.resolve(new Set(['https://kubernetes.default.svc', 'https://issuer.example.com'])),
};
const none: StoreAccess = { endpoints: [], tokens: [] };

describe('tenant policy', () => {
  it('refuses ambient identities on a SecretStore only', async () => {
    const access = { ...none, ambientIdentity: { field: 'spec.provider.x.auth.mi', what: 'the node identity', instead: 'auth.key' } };
    const refused = await checkStoreAccess('SecretStore', access, policy);
    expect(refused).toBeInstanceOf(NotAllowedError);
    expect(refused?.reason).toBe('IdentityNotAllowed');
    expect(refused?.message).toBe('spec.provider.x.auth.mi uses the node identity, which only a ClusterSecretStore may use: use a ClusterSecretStore, or a credential reference (auth.key)');
    expect(await checkStoreAccess('ClusterSecretStore', access, policy)).toBeUndefined();
  });

  it('refuses endpoints on a SecretStore only', async () => {
    const access = { ...none, endpoints: [{ field: 'spec.provider.vault.server', endpoint: 'http://169.254.169.254' }] };
    expect((await checkStoreAccess('SecretStore', access, policy))?.reason).toBe('EndpointNotAllowed');
    expect(await checkStoreAccess('ClusterSecretStore', access, policy)).toBeUndefined();
  });

  it('refuses tokens for the apiserver audiences, or none, on every store', async () => {
    for (const kind of ['SecretStore', 'ClusterSecretStore'] as const) {
      for (const audiences of [[], [''], ['https://issuer.example.com/'], ['vault', 'https://kubernetes.default.svc']]) {
        const refused = await checkStoreAccess(kind, { ...none, tokens: [{ field: 'f.serviceAccountRef', audiences }] }, policy);
        expect(refused?.reason).toBe('TokenAudienceNotAllowed');
      }
      expect(await checkStoreAccess(kind, { ...none, tokens: [{ field: 'f', audiences: ['vault'] }] }, policy)).toBeUndefined();
    }
    expect(checkTokenAudiences('f', undefined, new Set())).toMatch(/without an audience/);
  });

  it('learns what each provider asks for', () => {
    expect(vaultProvider.describeAccess({ server: 'https://v', path: 'secret', auth: { kubernetes: { role: 'r' } } }).ambientIdentity?.field).toBe('spec.provider.vault.auth.kubernetes');
    expect(vaultProvider.describeAccess({ server: 'https://v', path: 'secret', auth: { jwt: { serviceAccountRef: { name: 'a' } } } }).tokens).toEqual([
      { field: 'spec.provider.vault.auth.jwt.serviceAccountRef', audiences: [] },
    ]);
    expect(awsProvider.describeAccess({ region: 'eu-west-1', endpoint: 'https://e', stsEndpoint: 'https://s', auth: { jwt: { serviceAccountRef: { name: 'a' } } } })).toEqual({
      endpoints: [{ field: 'spec.provider.aws.endpoint', endpoint: 'https://e' }, { field: 'spec.provider.aws.stsEndpoint', endpoint: 'https://s' }],
      tokens: [{ field: 'spec.provider.aws.auth.jwt.serviceAccountRef', audiences: ['sts.amazonaws.com'] }],
    });
    const azure = azureProvider.describeAccess({ vaultUrl: 'https://v.vault.azure.net', auth: { managedIdentity: { endpoint: 'http://127.0.0.1:1' } } });
    expect(azure.ambientIdentity?.field).toBe('spec.provider.azure.auth.managedIdentity');
    expect(azure.endpoints.map((e) => e.field)).toEqual(['spec.provider.azure.vaultUrl', 'spec.provider.azure.auth.managedIdentity.endpoint']);
    const wif = '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k';
    const gcp = (audience: string) => gcpProvider.describeAccess({ projectID: 'p-roject', endpoint: 'h:1', insecure: true,
      auth: { workloadIdentity: { serviceAccountRef: { name: 'a' }, audience } } });
    expect(gcp(wif).tokens[0]?.audiences).toEqual([`https:${wif}`]);
    expect(gcp('identitynamespace:proj.svc.id.goog:https://container.googleapis.com/v1/projects/proj/locations/l/clusters/c').tokens[0]?.audiences).toEqual(['proj.svc.id.goog']);
    expect(gcp('other').tokens[0]?.audiences).toEqual([]);
    expect(gcp(wif).endpoints).toEqual([{ field: 'spec.provider.gcp.endpoint', endpoint: 'h:1', plaintext: true }]);
  });
});
