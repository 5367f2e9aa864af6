/**
 * What a store may make the operator do on its behalf, judged before a client is opened, from what
 * the provider says the config asks for (`Provider.describeAccess`):
 * - the operator's own identity (ambient credentials): only a ClusterSecretStore, which a cluster
 *   admin writes; a SecretStore must reference a credential;
 * - endpoints: a SecretStore's must pass the EndpointPolicy (no link-local, metadata or API server
 *   address, plain http only to loopback); the dial-time check in store-network.ts judges them
 *   again after DNS;
 * - ServiceAccount tokens: never one the Kubernetes API server accepts (its own audiences, or no
 *   audience at all), for any store, since such a token acts on the cluster as that ServiceAccount.
 */
import { Reasons } from '../api/constants.js';
import type { EndpointPolicy } from './endpoint-policy.js';
import type { StoreAccess } from './provider.js';
import { NotAllowedError } from './provider-errors.js';

/**
 * Audiences a kube-apiserver accepts when its issuer was never changed. The API server's actual
 * audiences (discovered, see apiserver-audiences.ts) are refused as well.
 */
export const DEFAULT_APISERVER_AUDIENCES: readonly string[] = [
  'https://kubernetes.default.svc',
  'https://kubernetes.default.svc.cluster.local',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

export interface TenantPolicy {
  endpoints: EndpointPolicy;
  /** The audiences the Kubernetes API server accepts; rejects when they cannot be learnt (transient). */
  apiserverAudiences(): Promise<ReadonlySet<string>>;
}

function normalise(audience: string): string {
  return audience.trim().replace(/\/+$/, '');
}

/** Why a token with these audiences is never requested, or undefined. */
export function checkTokenAudiences(field: string, audiences: readonly string[] | undefined, apiserver: ReadonlySet<string>): string | undefined {
  const given = (audiences ?? []).filter((a) => a.trim() !== '');
  if (given.length === 0) {
    return (
      `${field} asks for a token without an audience, which the Kubernetes API server would accept: ` +
      'Lockstep never requests one. Set audiences to what the provider expects'
    );
  }
  const known = new Set([...apiserver].map(normalise));
  const bad = given.find((a) => known.has(normalise(a)));
  if (bad === undefined) return undefined;
  return (
    `${field} asks for a token with audience '${bad}', which the Kubernetes API server accepts: ` +
    'such a token acts on the cluster as the ServiceAccount, and Lockstep never requests one. Set audiences to what the provider expects'
  );
}

/** The first thing the store may not have, as a NotAllowedError carrying its Ready reason; undefined when all is allowed. */
export async function checkStoreAccess(
  kind: 'SecretStore' | 'ClusterSecretStore',
  access: StoreAccess,
  policy: TenantPolicy,
): Promise<NotAllowedError | undefined> {
  if (kind === 'SecretStore') {
    const ambient = access.ambientIdentity;
    if (ambient) {
      return new NotAllowedError(
        Reasons.identityNotAllowed,
        `${ambient.field} uses ${ambient.what}, which only a ClusterSecretStore may use: ` +
          `use a ClusterSecretStore, or a credential reference (${ambient.instead})`,
      );
    }
    for (const e of access.endpoints) {
      const problem = policy.endpoints.checkEndpoint(e.field, e.endpoint, { plaintext: e.plaintext });
      if (problem) return new NotAllowedError(Reasons.endpointNotAllowed, problem);
    }
  }
  if (access.tokens.length === 0) return undefined;
  const apiserver = await policy.apiserverAudiences();
  for (const t of access.tokens) {
    const problem = checkTokenAudiences(t.field, t.audiences, apiserver);
    if (problem) return new NotAllowedError(Reasons.tokenAudienceNotAllowed, problem);
  }
  return undefined;
}
