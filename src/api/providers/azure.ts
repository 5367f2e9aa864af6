import { z } from 'zod';
import { SecretKeySelector, ServiceAccountSelector } from '../common-schemas.js';

/** An https URL with a host and an optional port, no path: what the portal shows as "Vault URI". */
const VAULT_URL = /^https:\/\/[a-zA-Z0-9.-]+(:[0-9]{1,5})?\/?$/;
const HTTPS_HOST_URL = /^https:\/\/[a-zA-Z0-9.-]+(:[0-9]{1,5})?\/?$/;
const HTTP_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;
/** A directory (tenant) ID: a GUID, or a verified domain such as contoso.onmicrosoft.com. */
const TENANT = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)+)$/;
const CLIENT_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const AzureServicePrincipalAuth = z
  .object({
    clientIdSecretRef: SecretKeySelector.meta({
      description: 'The key of a Secret holding the application (client) ID of the service principal.',
    }),
    clientSecretSecretRef: SecretKeySelector.meta({
      description: 'The key of a Secret holding a client secret of the service principal.',
    }),
  })
  .meta({ description: 'A Microsoft Entra application (service principal) with a client secret. Needs `tenantId`.' });
export type AzureServicePrincipalAuth = z.infer<typeof AzureServicePrincipalAuth>;

export const AzureManagedIdentityAuth = z
  .object({
    clientId: z.string().regex(CLIENT_ID).optional().meta({
      description: 'The client ID of a user-assigned managed identity. Omit it to use the system-assigned identity.',
    }),
    endpoint: z.string().regex(HTTP_URL).optional().meta({
      description:
        'An IMDS-compatible token endpoint (GET ?resource=...&api-version=2018-02-01, header Metadata: true), ' +
        'for example a managed-identity emulator. Omit it to use the platform\'s managed identity endpoint.',
    }),
  })
  .meta({ description: 'The managed identity of the node or pod the operator runs on.' });
export type AzureManagedIdentityAuth = z.infer<typeof AzureManagedIdentityAuth>;

export const AzureWorkloadIdentityAuth = z
  .object({
    serviceAccountRef: ServiceAccountSelector.meta({
      description:
        'The Kubernetes ServiceAccount whose token is presented as a federated credential. ' +
        'Its audience is "api://AzureADTokenExchange" unless `audiences` says otherwise.',
    }),
    clientId: z.string().regex(CLIENT_ID).meta({
      description: 'The client ID of the Entra application or user-assigned managed identity that trusts the ServiceAccount.',
    }),
  })
  .meta({
    description:
      'Microsoft Entra Workload ID: a ServiceAccount token is exchanged for an access token of `clientId` ' +
      '(a federated identity credential with the cluster\'s issuer and subject system:serviceaccount:NAMESPACE:NAME). Needs `tenantId`.',
  });
export type AzureWorkloadIdentityAuth = z.infer<typeof AzureWorkloadIdentityAuth>;

export const AzureAuth = z
  .object({
    servicePrincipal: AzureServicePrincipalAuth.optional(),
    managedIdentity: AzureManagedIdentityAuth.optional(),
    workloadIdentity: AzureWorkloadIdentityAuth.optional(),
  })
  .meta({
    description: 'How the store authenticates to Key Vault. Set exactly one method; there is no default credential chain.',
    minProperties: 1,
    maxProperties: 1,
  });
export type AzureAuth = z.infer<typeof AzureAuth>;

export const AzureEnvironmentType = z
  .enum(['PublicCloud', 'USGovernmentCloud', 'ChinaCloud'])
  .meta({ description: 'The Azure cloud, which selects the Microsoft Entra authority host (default PublicCloud).' });
export type AzureEnvironmentType = z.infer<typeof AzureEnvironmentType>;

export const AzureProviderSpec = z
  .object({
    vaultUrl: z.string().regex(VAULT_URL).meta({
      description: 'The vault URI, e.g. "https://my-vault.vault.azure.net".',
    }),
    tenantId: z.string().regex(TENANT).optional().meta({
      description: 'The Microsoft Entra tenant (directory) ID. Required for servicePrincipal and workloadIdentity.',
    }),
    environmentType: AzureEnvironmentType.optional(),
    authorityHost: z.string().regex(HTTPS_HOST_URL).optional().meta({
      description:
        'A custom Microsoft Entra authority host, e.g. "https://login.microsoftonline.com". ' +
        'Overrides environmentType; set one of the two at most.',
    }),
    caBundle: z.string().min(1).optional().meta({
      description:
        'PEM certificates to trust, in addition to the public roots, for the vault and the authority host ' +
        '(a TLS-inspecting proxy, Azure Stack Hub, or a test vault).',
    }),
    disableChallengeResourceVerification: z.boolean().optional().meta({
      description:
        'Accept an authentication challenge whose resource does not match the vault\'s domain. ' +
        'Only for vaults outside *.vault.azure.net and its sovereign equivalents, such as emulators. Default false.',
    }),
    auth: AzureAuth,
  })
  .meta({ description: 'Azure Key Vault secrets. Remote keys are secret names (letters, digits and dashes).' });
export type AzureProviderSpec = z.infer<typeof AzureProviderSpec>;
