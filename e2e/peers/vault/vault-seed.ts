// What the Vault e2e tests need in a fresh OpenBao dev server (run again after every restart, with
// the same fixed AppRole credentials so clients made before a restart can log in again).
import { APP_SERVICE_ACCOUNT, type KubeAuthSetup } from './vault-kube.js';
import type { VaultPeer } from './vault-peer.js';

export const READ_POLICY = 'lockstep-read';
export const APPROLE = { roleId: 'lockstep-role-id', secretId: 'lockstep-approle-secret-id-0123' } as const;
/** The audience of ServiceAccount tokens presented to Vault's Kubernetes and JWT roles. */
export const VAULT_AUDIENCE = 'vault';
/** Token lifetime of the `short` roles (seconds): reads must keep working past it. */
export const SHORT_TTL_SECONDS = 4;
export const SHORT_MAX_TTL_SECONDS = 10;
export const TEAM_NAMESPACE = 'team-a';

/** Read-only and scoped: what the Vault section of README.md recommends. `private/` is deliberately not in it. */
const POLICY = `
path "secret/data/*" { capabilities = ["read"] }
path "secret/metadata/*" { capabilities = ["read", "list"] }
path "kv1/*" { capabilities = ["read", "list"] }
`;

async function seedAppRole(peer: VaultPeer): Promise<void> {
  await peer.admin('POST', 'sys/auth/approle', { type: 'approle' });
  const roles = { lockstep: { token_ttl: '1h', token_max_ttl: '2h' }, short: { token_ttl: `${SHORT_TTL_SECONDS}s`, token_max_ttl: `${SHORT_MAX_TTL_SECONDS}s` } };
  for (const [name, ttl] of Object.entries(roles)) {
    await peer.admin('POST', `auth/approle/role/${name}`, { token_policies: [READ_POLICY], ...ttl });
    await peer.admin('POST', `auth/approle/role/${name}/role-id`, { role_id: `${APPROLE.roleId}-${name}` });
    await peer.admin('POST', `auth/approle/role/${name}/custom-secret-id`, { secret_id: APPROLE.secretId });
  }
}

async function seedKubernetes(peer: VaultPeer, kube: KubeAuthSetup): Promise<void> {
  await peer.admin('POST', 'sys/auth/kubernetes', { type: 'kubernetes' });
  await peer.admin('POST', 'auth/kubernetes/config', {
    kubernetes_host: kube.server,
    kubernetes_ca_cert: kube.caPem,
    token_reviewer_jwt: kube.reviewerJwt,
    disable_local_ca_jwt: true,
  });
  const bound = { bound_service_account_names: [APP_SERVICE_ACCOUNT], bound_service_account_namespaces: [kube.namespace], audience: VAULT_AUDIENCE };
  await peer.admin('POST', 'auth/kubernetes/role/app', { ...bound, token_policies: [READ_POLICY], token_ttl: '1h' });
  await peer.admin('POST', 'auth/kubernetes/role/short', {
    ...bound,
    token_policies: [READ_POLICY],
    token_ttl: `${SHORT_TTL_SECONDS}s`,
    token_max_ttl: `${SHORT_MAX_TTL_SECONDS}s`,
  });
  await peer.admin('POST', 'auth/kubernetes/role/someone-else', { ...bound, bound_service_account_names: ['someone-else'], token_policies: [READ_POLICY] });
}

async function seedJwt(peer: VaultPeer, kube: KubeAuthSetup): Promise<void> {
  await peer.admin('POST', 'sys/auth/jwt', { type: 'jwt' });
  await peer.admin('POST', 'auth/jwt/config', { jwt_validation_pubkeys: kube.signingKeysPem, bound_issuer: kube.issuer });
  await peer.admin('POST', 'auth/jwt/role/app', {
    role_type: 'jwt',
    bound_audiences: [VAULT_AUDIENCE],
    user_claim: 'sub',
    bound_subject: `system:serviceaccount:${kube.namespace}:${APP_SERVICE_ACCOUNT}`,
    token_policies: [READ_POLICY],
    token_ttl: '1h',
  });
}

export async function seedVault(peer: VaultPeer, kube: KubeAuthSetup): Promise<void> {
  await peer.admin('POST', 'sys/mounts/kv1', { type: 'kv', options: { version: '1' } });
  await peer.admin('POST', 'sys/mounts/private', { type: 'kv', options: { version: '2' } });
  await peer.admin('PUT', `sys/policies/acl/${READ_POLICY}`, { policy: POLICY });
  await peer.admin('POST', `sys/namespaces/${TEAM_NAMESPACE}`, {});
  await peer.admin('POST', `${TEAM_NAMESPACE}/sys/mounts/kv`, { type: 'kv', options: { version: '2' } });
  await seedAppRole(peer);
  await seedKubernetes(peer, kube);
  await seedJwt(peer, kube);
}
