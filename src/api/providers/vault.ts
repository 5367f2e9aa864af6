import { z } from 'zod';
import { SecretKeySelector, ServiceAccountSelector } from '../common-schemas.js';

const HTTP_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;
/** A Vault mount or auth path: segments of letters, digits and `-_.`, no leading or trailing slash. */
const VAULT_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
/** Standard base64 (what a PEM bundle becomes with `base64 -w0`). */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export const VaultAppRoleAuth = z
  .object({
    path: z
      .string()
      .regex(VAULT_PATH)
      .optional()
      .meta({ description: 'The path the AppRole auth method is mounted at (default "approle").' }),
    roleId: z.string().min(1).meta({ description: 'The RoleID of the AppRole (not a secret).' }),
    secretRef: SecretKeySelector.meta({
      description: 'The key of a Secret holding the SecretID. It is read again at every login, so it can be rotated in place.',
    }),
  })
  .meta({ description: 'Log in with an AppRole RoleID and a SecretID kept in a Kubernetes Secret.' });

export const VaultKubernetesAuth = z
  .object({
    mountPath: z
      .string()
      .regex(VAULT_PATH)
      .optional()
      .meta({ description: 'The path the Kubernetes auth method is mounted at (default "kubernetes").' }),
    role: z.string().min(1).meta({ description: 'The Vault role to log in as; it must be bound to the ServiceAccount.' }),
    serviceAccountRef: ServiceAccountSelector.optional().meta({
      description:
        'The ServiceAccount whose short-lived token (from the TokenRequest API) logs in; Vault reviews it with the cluster. ' +
        "Set `audiences` to the role's `audience` if it has one. Required on a SecretStore; a ClusterSecretStore without it logs in as the operator's own ServiceAccount.",
    }),
  })
  .meta({ description: 'Log in with a Kubernetes ServiceAccount token (Vault Kubernetes auth method).' });

export const VaultJwtAuth = z
  .object({
    path: z
      .string()
      .regex(VAULT_PATH)
      .optional()
      .meta({ description: 'The path the JWT/OIDC auth method is mounted at (default "jwt").' }),
    role: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "The Vault role to log in as (default: the auth method's default_role)." }),
    serviceAccountRef: ServiceAccountSelector.meta({
      description:
        "The ServiceAccount whose token (from the TokenRequest API) is presented as the JWT. Set `audiences` to the role's bound_audiences.",
    }),
  })
  .meta({ description: "Log in with a Kubernetes ServiceAccount token validated by Vault's JWT auth method (no TokenReview)." });

const passwordAuth = (method: string, defaultPath: string) =>
  z
    .object({
      path: z
        .string()
        .regex(VAULT_PATH)
        .optional()
        .meta({ description: `The path the ${method} auth method is mounted at (default "${defaultPath}").` }),
      username: z.string().min(1).meta({ description: 'The user to log in as.' }),
      secretRef: SecretKeySelector.meta({
        description: "The key of a Secret holding the user's password. It is read again at every login, so it can be rotated in place.",
      }),
    })
    .meta({ description: `Log in with a username and a password kept in a Kubernetes Secret (Vault ${method} auth method).` });

export const VaultUserPassAuth = passwordAuth('userpass', 'userpass');
export const VaultLdapAuth = passwordAuth('LDAP', 'ldap');

export const VaultCertAuth = z
  .object({
    path: z
      .string()
      .regex(VAULT_PATH)
      .optional()
      .meta({ description: 'The path the TLS certificate auth method is mounted at (default "cert").' }),
    role: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'The certificate role to log in as (the login\'s `name`); by default Vault tries every role the certificate matches.' }),
    clientCert: SecretKeySelector.meta({
      description: 'The key of a Secret holding the client certificate (PEM; a chain may follow it), e.g. `tls.crt` of a kubernetes.io/tls Secret.',
    }),
    secretRef: SecretKeySelector.meta({
      description: "The key of a Secret holding the certificate's private key (PEM), e.g. `tls.key`. Both are read again at every login.",
    }),
  })
  .meta({
    description:
      'Log in with a TLS client certificate (Vault cert auth method), as External Secrets Operator spells it. Needs an https server; ' +
      'the certificate is presented on the login request only.',
  });

export const VaultClientTls = z
  .object({
    certSecretRef: SecretKeySelector.meta({
      description: 'The key of a Secret holding the client certificate (PEM; a chain may follow it), e.g. `tls.crt` of a kubernetes.io/tls Secret.',
    }),
    keySecretRef: SecretKeySelector.meta({
      description: "The key of a Secret holding the certificate's private key (PEM), e.g. `tls.key`.",
    }),
  })
  .meta({
    description:
      'A TLS client certificate presented on every request to Vault, for a listener that requires one (mutual TLS), as External Secrets Operator spells it. ' +
      'Needs an https server. Read at the first request, at every login, and after a request Vault did not answer, so a renewed certificate is picked up. ' +
      'Not an auth method: set `auth` as well (`auth.cert` logs in with its own certificate).',
  });
export type VaultClientTls = z.infer<typeof VaultClientTls>;

export const VaultAuth = z
  .object({
    tokenSecretRef: SecretKeySelector.optional().meta({
      description: 'The key of a Secret holding a Vault token, used as it is (not renewed): rotate it in the Secret.',
    }),
    appRole: VaultAppRoleAuth.optional(),
    kubernetes: VaultKubernetesAuth.optional(),
    jwt: VaultJwtAuth.optional(),
    userPass: VaultUserPassAuth.optional(),
    ldap: VaultLdapAuth.optional(),
    cert: VaultCertAuth.optional(),
  })
  .meta({
    description:
      'How to authenticate to Vault. Set exactly one method. Tokens from a login are renewed before they expire and replaced by a new login when they cannot be.',
    minProperties: 1,
    maxProperties: 1,
  });
export type VaultAuth = z.infer<typeof VaultAuth>;

export const VaultProviderSpec = z
  .object({
    server: z
      .string()
      .regex(HTTP_URL)
      .meta({ description: 'The Vault (or OpenBao) address, e.g. "https://vault.example.com:8200".' }),
    path: z
      .string()
      .regex(VAULT_PATH)
      .meta({ description: 'The mount path of the KV secrets engine, e.g. "secret". remoteRef.key is a path under it.' }),
    version: z
      .enum(['v1', 'v2'])
      .optional()
      .meta({ description: 'The version of the KV secrets engine: "v2" (default; versioned) or "v1" (no versions).' }),
    namespace: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'A Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace on every request, login included.' }),
    caBundle: z
      .string()
      .regex(BASE64)
      .optional()
      .meta({
        description:
          'Base64 of the PEM certificate(s) that sign the server certificate (`base64 -w0 ca.pem`), as in External Secrets Operator. ' +
          'Replaces the system trust store for this store. Omit it for a server with a publicly trusted certificate.',
      }),
    tls: VaultClientTls.optional(),
    auth: VaultAuth,
  })
  .meta({ description: 'HashiCorp Vault or OpenBao, KV secrets engine version 1 or 2.' });
export type VaultProviderSpec = z.infer<typeof VaultProviderSpec>;
