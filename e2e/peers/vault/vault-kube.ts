// The Kubernetes side of Vault's Kubernetes and JWT auth against the real local control plane:
// a namespace with the ServiceAccount `app` that logs in, a `vault-reviewer` ServiceAccount bound to
// system:auth-delegator whose token Vault uses for TokenReview, the apiserver's URL and CA, and
// the ServiceAccount issuer's public keys (for the JWT auth method, which validates tokens offline).
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { TestCluster } from '../../harness/cluster.js';

export interface KubeAuthSetup {
  namespace: string;
  /** The apiserver URL (https://127.0.0.1:PORT) and its CA (PEM), as Vault must reach and trust it. */
  server: string;
  caPem: string;
  reviewerJwt: string;
  /** The ServiceAccount token issuer and its signing keys as PEM. */
  issuer: string;
  signingKeysPem: string[];
  /** A token for a ServiceAccount in the namespace through the TokenRequest API (`kubectl create token`). */
  requestToken(name: string, opts: { namespace?: string; audiences?: string[]; expirationSeconds?: number }): Promise<string>;
  cleanup(): Promise<void>;
}

export const APP_SERVICE_ACCOUNT = 'app';
const REVIEWER = 'vault-reviewer';

export async function prepareKubeAuth(cluster: TestCluster): Promise<KubeAuthSetup> {
  const namespace = await cluster.createNamespace('vault-auth');
  const binding = `${namespace}-vault-reviewer`;
  await cluster.kubectl(['create', 'serviceaccount', REVIEWER, '-n', namespace]);
  await cluster.kubectl(['create', 'serviceaccount', APP_SERVICE_ACCOUNT, '-n', namespace]);
  await cluster.kubectl(['create', 'clusterrolebinding', binding, '--clusterrole=system:auth-delegator', `--serviceaccount=${namespace}:${REVIEWER}`]);
  const reviewerJwt = (await cluster.kubectl(['create', 'token', REVIEWER, '-n', namespace, '--duration=1h'])).trim();
  const view = (path: string) => cluster.kubectl(['config', 'view', '--raw', '--minify', '-o', `jsonpath={${path}}`]);
  const server = await view('.clusters[0].cluster.server');
  const caPem = Buffer.from(await view('.clusters[0].cluster.certificate-authority-data'), 'base64').toString('utf8');
  const discovery = JSON.parse(await cluster.kubectl(['get', '--raw', '/.well-known/openid-configuration'])) as { issuer: string };
  const jwks = JSON.parse(await cluster.kubectl(['get', '--raw', '/openid/v1/jwks'])) as { keys: JsonWebKey[] };
  const signingKeysPem = jwks.keys.map((key) => createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString());

  return {
    namespace,
    server,
    caPem,
    reviewerJwt,
    issuer: discovery.issuer,
    signingKeysPem,
    async requestToken(name, opts) {
      const args = ['create', 'token', name, '-n', opts.namespace ?? namespace, `--duration=${opts.expirationSeconds ?? 600}s`];
      for (const audience of opts.audiences ?? []) args.push(`--audience=${audience}`);
      return (await cluster.kubectl(args)).trim();
    },
    async cleanup() {
      await cluster.kubectl(['delete', 'clusterrolebinding', binding, '--ignore-not-found']);
      await cluster.deleteNamespace(namespace);
    },
  };
}
