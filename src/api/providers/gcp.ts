import { z } from 'zod';
import { SecretKeySelector, ServiceAccountSelector } from '../common-schemas.js';

/** `host:port`, a DNS name or an IPv4 address. */
const HOST_PORT = /^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*:[0-9]{1,5}$/;
/** A project ID (6–30 lower-case letters, digits, dashes) or a project number. */
const PROJECT = /^([a-z][-a-z0-9]{4,28}[a-z0-9]|[0-9]{1,20})$/;
const HTTP_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

export const GcpSecretRefAuth = z
  .object({
    secretAccessKeySecretRef: SecretKeySelector.meta({
      description: 'The key of a Secret holding a Google service-account JSON key (the file `gcloud iam service-accounts keys create` writes).',
    }),
  })
  .meta({ description: 'Authenticate with a service-account JSON key kept in a Kubernetes Secret.' });

export const GcpWorkloadIdentityAuth = z
  .object({
    serviceAccountRef: ServiceAccountSelector.meta({
      description:
        'The Kubernetes ServiceAccount whose token is exchanged. Set `audiences` to what the workload identity provider accepts ' +
        '(GKE: "PROJECT_ID.svc.id.goog"; Workload Identity Federation: the provider\'s allowed audience).',
    }),
    audience: z
      .string()
      .min(1)
      .meta({
        description:
          'The STS audience: "//iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER" ' +
          'for Workload Identity Federation, or "identitynamespace:PROJECT_ID.svc.id.goog:https://container.googleapis.com/v1/projects/PROJECT_ID/locations/LOCATION/clusters/CLUSTER" on GKE.',
      }),
    serviceAccountEmail: z
      .string()
      .regex(/^[^@\s]+@[^@\s]+$/)
      .optional()
      .meta({
        description:
          'A Google service account to impersonate with the federated token (IAM Credentials generateAccessToken). ' +
          'Omit it to use the federated token directly (grant the IAM role to the federated principal).',
      }),
    stsEndpoint: z
      .string()
      .regex(HTTP_URL)
      .optional()
      .meta({
        description: 'The Security Token Service token URL (default "https://sts.googleapis.com/v1/token"). Plain http is accepted only for a loopback address.',
      }),
    iamCredentialsEndpoint: z
      .string()
      .regex(HTTP_URL)
      .optional()
      .meta({
        description:
          'The IAM Credentials API base URL used for impersonation (default "https://iamcredentials.googleapis.com"). Plain http is accepted only for a loopback address.',
      }),
  })
  .meta({
    description:
      'Authenticate as a Kubernetes ServiceAccount: its token is exchanged at Google STS for a Google access token, optionally impersonating a Google service account.',
  });

export const GcpAuth = z
  .object({
    secretRef: GcpSecretRefAuth.optional(),
    workloadIdentity: GcpWorkloadIdentityAuth.optional(),
  })
  .meta({ description: 'How to authenticate to Secret Manager. Set exactly one method.', minProperties: 1, maxProperties: 1 });

export const GcpProviderSpec = z
  .object({
    projectID: z
      .string()
      .regex(PROJECT)
      .meta({ description: 'The project holding the secrets; keys that are not full resource names are read from it.' }),
    endpoint: z
      .string()
      .regex(HOST_PORT)
      .optional()
      .meta({
        description:
          'The Secret Manager gRPC endpoint as "host:port" (default "secretmanager.googleapis.com:443"). ' +
          'Use it for a regional endpoint ("secretmanager.LOCATION.rep.googleapis.com:443"), Private Service Connect or an emulator.',
      }),
    caBundle: z
      .string()
      .regex(/-----BEGIN CERTIFICATE-----/)
      .optional()
      .meta({
        description:
          'PEM certificates of extra certificate authorities to trust, in addition to the public roots, for every TLS connection ' +
          'the provider makes (the gRPC `endpoint`, `stsEndpoint`, `iamCredentialsEndpoint`). For private endpoints and ' +
          'TLS-inspecting proxies whose certificates a private CA signs. Certificates only, never keys.',
      }),
    insecure: z
      .boolean()
      .optional()
      .meta({
        description:
          'Connect to `endpoint` without TLS and without sending credentials. Only for a local emulator; never for Google Cloud.',
      }),
    auth: GcpAuth,
  })
  .meta({ description: 'Google Cloud Secret Manager.' });
export type GcpProviderSpec = z.infer<typeof GcpProviderSpec>;
