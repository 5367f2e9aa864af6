// The operator logs in to OpenBao with Kubernetes auth: it asks our real kube-apiserver for a
// ServiceAccount token (TokenRequest), OpenBao reviews that token with the same apiserver
// (TokenReview), and the ExternalSecret syncs. Nothing the operator prints contains a value.
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { APP_SERVICE_ACCOUNT, prepareKubeAuth, type KubeAuthSetup } from '../peers/vault/vault-kube.js';
import { startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import { type ClientCertificatePem, makeClientCertificate, seedCertAuth } from '../peers/vault/client-certs.js';
import { seedVault, VAULT_AUDIENCE } from '../peers/vault/vault-seed.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf } from '../support/resources.js';

let cluster: TestCluster;
let kube: KubeAuthSetup;
let peer: VaultPeer;
let op: RunningOperator;
let opNs: string;
let tlsPeer: VaultPeer;
let trusted: ClientCertificatePem;

beforeAll(async () => {
  cluster = loadTestCluster();
  kube = await prepareKubeAuth(cluster);
  peer = await startVaultPeer({ seed: (p) => seedVault(p, kube) });
  await peer.admin('POST', 'secret/data/team/db', { data: { user: 'app', password: 'vault-op-e2e-password' } });
  // An HTTPS OpenBao with the cert auth method, trusting one client certificate.
  const stranger = await makeClientCertificate('someone-else');
  trusted = await makeClientCertificate('lockstep-app');
  tlsPeer = await startVaultPeer({ tls: true, seed: async (p) => {
    await p.admin('PUT', 'sys/policies/acl/cert-read', { policy: 'path "secret/data/*" { capabilities = ["read"] }' });
    await seedCertAuth(p, trusted, ['cert-read']);
  } });
  await tlsPeer.admin('POST', 'secret/data/team/cert', { data: { value: 'vault-op-e2e-by-cert' } });
  for (const [name, c] of [['client-cert', trusted], ['stranger-cert', stranger]] as const) {
    await cluster.kubectl(['-n', kube.namespace, 'create', 'secret', 'generic', name, `--from-literal=tls.crt=${c.certPem}`, `--from-literal=tls.key=${c.keyPem}`]);
  }
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: kube.namespace });
}, 300_000);

afterAll(async () => {
  await op?.stop();
  await peer?.stop();
  await tlsPeer?.stop();
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

  it('logs in with a TLS client certificate from a Secret (cert auth); a certificate the role does not trust is Ready=False, saying so', async () => {
    const certStore = (name: string, secret: string) => JSON.stringify({
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name, namespace: kube.namespace },
      spec: { provider: { vault: {
        server: tlsPeer.endpoint, path: 'secret', caBundle: Buffer.from(tlsPeer.caPem() ?? '').toString('base64'),
        auth: { cert: { clientCert: { name: secret, key: 'tls.crt' }, secretRef: { name: secret, key: 'tls.key' } } },
      } } },
    });
    await apply(cluster, certStore('vault-cert', 'client-cert'));
    await eventually(async () => readyOf(await getJson(cluster, 'secretstore', kube.namespace, 'vault-cert'))?.status === 'True', 30_000, 'cert store Ready');
    await apply(cluster, externalSecret(kube.namespace, 'by-cert', { secretStoreRef: { name: 'vault-cert' }, data: [{ secretKey: 'value', remoteRef: { key: 'team/cert' } }] }));
    await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', kube.namespace, 'by-cert'))?.status === 'True', 30_000, 'by-cert Ready');
    expect(decodeData(await getJson(cluster, 'secret', kube.namespace, 'by-cert'))).toEqual({ value: 'vault-op-e2e-by-cert' });

    await apply(cluster, certStore('vault-stranger', 'stranger-cert'));
    const refused = await eventually(async () => {
      const r = readyOf(await getJson(cluster, 'secretstore', kube.namespace, 'vault-stranger'));
      return r?.status === 'False' ? r : undefined;
    }, 30_000, 'stranger store Ready=False');
    expect(refused.message).toMatch(/logging in with cert \(auth\/cert\): .*invalid certificate/);
    console.log(`a certificate the role does not trust: ${refused.reason}: ${refused.message}`);
  });

  it('never prints a value or a token', () => {
    expect(findLeaks(op.output(), ['vault-op-e2e-password', 'vault-op-e2e-by-cert', kube.reviewerJwt, trusted.keyPem.trim()])).toEqual([]);
  });
});
