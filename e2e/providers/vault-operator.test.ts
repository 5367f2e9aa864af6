// The operator logs in to OpenBao with Kubernetes auth: it asks our real kube-apiserver for a
// ServiceAccount token (TokenRequest), OpenBao reviews that token with the same apiserver
// (TokenReview), and the ExternalSecret syncs. Nothing the operator prints contains a value.
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { APP_SERVICE_ACCOUNT, prepareKubeAuth, type KubeAuthSetup } from '../peers/vault/vault-kube.js';
import { startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import { seedVault, VAULT_AUDIENCE } from '../peers/vault/vault-seed.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf } from '../support/resources.js';

let cluster: TestCluster;
let kube: KubeAuthSetup;
let peer: VaultPeer;
let op: RunningOperator;
let opNs: string;

beforeAll(async () => {
  cluster = loadTestCluster();
  kube = await prepareKubeAuth(cluster);
  peer = await startVaultPeer({ seed: (p) => seedVault(p, kube) });
  await peer.admin('POST', 'secret/data/team/db', { data: { user: 'app', password: 'vault-op-e2e-password' } });
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: kube.namespace });
}, 300_000);

afterAll(async () => {
  await op?.stop();
  await peer?.stop();
  await kube?.cleanup();
  await cluster.deleteNamespace(opNs);
});

function store(name: string, role: string): string {
  return JSON.stringify({
    apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name, namespace: kube.namespace },
    spec: {
      provider: { vault: { server: peer.endpoint, path: 'secret', version: 'v2', auth: { kubernetes: {
        role, serviceAccountRef: { name: APP_SERVICE_ACCOUNT, audiences: [VAULT_AUDIENCE] },
      } } } },
    },
  });
}

describe('operator with a Vault store and Kubernetes auth', () => {
  it('logs in with a token from TokenRequest that Vault reviews with the apiserver, and syncs', async () => {
    await apply(cluster, store('vault', 'app'));
    await eventually(async () => readyOf(await getJson(cluster, 'secretstore', kube.namespace, 'vault'))?.status === 'True', 30_000, 'store Ready');
    await apply(cluster, externalSecret(kube.namespace, 'db', {
      secretStoreRef: { name: 'vault' },
      data: [{ secretKey: 'password', remoteRef: { key: 'team/db', property: 'password' } }],
      dataFrom: [{ extract: { key: 'team/db' } }],
    }));
    await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', kube.namespace, 'db'))?.status === 'True', 30_000, 'db Ready');
    expect(decodeData(await getJson(cluster, 'secret', kube.namespace, 'db'))).toEqual({ user: 'app', password: 'vault-op-e2e-password' });
    expect(await op.counter('lockstep_kube_requests_total', { verb: 'create', resource: 'serviceaccounts/token' })).toBeGreaterThan(0);
  });

  it('a role bound to another ServiceAccount makes the store not Ready, with the reason', async () => {
    await apply(cluster, store('denied', 'someone-else'));
    const ready = await eventually(async () => {
      const r = readyOf(await getJson(cluster, 'secretstore', kube.namespace, 'denied'));
      return r?.status === 'False' ? r : undefined;
    }, 30_000, 'store Ready=False');
    expect(ready.reason).toBe('ValidationFailed');
  });

  it('never prints a value or a token', () => {
    expect(findLeaks(op.output(), ['vault-op-e2e-password', kube.reviewerJwt])).toEqual([]);
  });
});
