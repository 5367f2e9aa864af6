// The whole path with a real provider: the operator reads an AWS SecretStore's static keys from a
// Kubernetes Secret, syncs ExternalSecrets from moto, keeps the last good Secret through an outage,
// recovers, and never prints a value.
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { startAwsPeer, type AwsPeer } from '../peers/aws/aws-peer.js';
import { enforceIam, REGION, type MotoPrincipals } from '../peers/aws/moto-iam.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf } from '../support/resources.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

let cluster: TestCluster;
let peer: AwsPeer;
let principals: MotoPrincipals;
let admin: SecretsManagerClient;
let op: RunningOperator;
let ns: string;
let opNs: string;
const values = ['aws-op-e2e-password', 'aws-op-e2e-token', 'aws-op-e2e-rotated'];

async function seed(password: string): Promise<void> {
  principals = await enforceIam(peer);
  values.push(principals.reader.secretAccessKey, principals.admin.secretAccessKey);
  admin?.destroy();
  admin = new SecretsManagerClient({ region: REGION, endpoint: peer.endpoint, credentials: principals.admin, maxAttempts: 1 });
  await admin.send(new CreateSecretCommand({ Name: 'app/db', SecretString: JSON.stringify({ user: 'app', password }) })).catch(() =>
    admin.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: JSON.stringify({ user: 'app', password }) })));
  await admin.send(new CreateSecretCommand({ Name: 'app/token', SecretString: 'aws-op-e2e-token', Tags: [{ Key: 'team', Value: 'a' }] })).catch(() => undefined);
}

const ready = async (name: string) => readyOf(await getJson(cluster, 'externalsecret', ns, name));

beforeAll(async () => {
  cluster = loadTestCluster();
  peer = await startAwsPeer({ startTimeoutMs: 600_000 });
  await seed('aws-op-e2e-password');
  ns = await cluster.createNamespace('aws-op');
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  await cluster.kubectl(['-n', ns, 'create', 'secret', 'generic', 'aws-reader',
    `--from-literal=id=${principals.reader.accessKeyId}`, `--from-literal=secret=${principals.reader.secretAccessKey}`]);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
}, 600_000);

afterAll(async () => {
  await op?.stop();
  admin?.destroy();
  await peer?.stop();
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
});

describe('operator with an AWS Secrets Manager store', () => {
  it('validates the store and syncs properties and tagged secrets', async () => {
    await apply(cluster, JSON.stringify({
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'aws', namespace: ns },
      spec: {
        provider: { aws: { region: REGION, endpoint: peer.endpoint, auth: { secretRef: {
          accessKeyIDSecretRef: { name: 'aws-reader', key: 'id' },
          secretAccessKeySecretRef: { name: 'aws-reader', key: 'secret' },
        } } } },
      },
    }));
    await eventually(async () => readyOf(await getJson(cluster, 'secretstore', ns, 'aws'))?.status === 'True', 30_000, 'store Ready');
    await apply(cluster, externalSecret(ns, 'db', {
      secretStoreRef: { name: 'aws' }, refreshInterval: '2s',
      data: [{ secretKey: 'password', remoteRef: { key: 'app/db', property: 'password' } }],
      dataFrom: [{ find: { tags: { team: 'a' } }, rewrite: [{ regexp: { source: '/', target: '-' } }] }],
    }));
    await eventually(async () => (await ready('db'))?.status === 'True', 30_000, 'db Ready');
    expect(decodeData(await getJson(cluster, 'secret', ns, 'db'))).toEqual({ password: 'aws-op-e2e-password', 'app-token': 'aws-op-e2e-token' });
  });

  it('keeps the last good Secret through an outage and recovers when the provider is back', async () => {
    const before = await getJson(cluster, 'secret', ns, 'db');
    await peer.stop();
    const down = await eventually(async () => {
      const r = await ready('db');
      return r?.status === 'False' ? r : undefined;
    }, 30_000, 'Ready=False during the outage');
    expect(down.reason).toBe('ProviderError');
    expect((await getJson(cluster, 'secret', ns, 'db'))?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);

    await peer.start();
    await seed('aws-op-e2e-rotated'); // moto starts empty; the same seed gives the same access keys
    await eventually(async () => decodeData(await getJson(cluster, 'secret', ns, 'db')).password === 'aws-op-e2e-rotated', 60_000, 'recovery');
    expect((await ready('db'))?.status).toBe('True');
  });

  it('never prints a secret value or a credential', () => {
    expect(findLeaks(op.output(), values)).toEqual([]);
  });
});
