// The whole path with a real provider: the operator reads an AWS SecretStore's static keys from a
// Kubernetes Secret, syncs ExternalSecrets from moto, keeps the last good Secret through an outage,
// recovers, and never prints a value. The outage is a link cut between the operator and moto
// (connections reset), so moto keeps its state and the test never races the operator to re-seed it.
import { writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { startAwsPeer, type AwsPeer } from '../peers/aws/aws-peer.js';
import { enforceIam, REGION, type MotoPrincipals } from '../peers/aws/moto-iam.js';
import { findLeaks } from '../support/leaks.js';
import { freePort, prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
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

/** A link from a loopback port to moto that can be cut (every connection reset) and restored. */
interface Link {
  port: number;
  up: boolean;
  cut(): void;
  close(): Promise<void>;
}

async function startLink(targetPort: number): Promise<Link> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s)).on('error', () => s.destroy());
  };
  const link: Link = {
    port: await freePort(),
    up: true,
    cut() {
      this.up = false;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer((client) => {
    track(client);
    if (!link.up) return client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(link.port, '127.0.0.1', () => r()));
  return link;
}

let link: Link;

beforeAll(async () => {
  cluster = loadTestCluster();
  peer = await startAwsPeer({ startTimeoutMs: 600_000 });
  await seed('aws-op-e2e-password');
  link = await startLink(peer.port);
  ns = await cluster.createNamespace('aws-op');
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  await cluster.kubectl(['-n', ns, 'create', 'secret', 'generic', 'aws-reader',
    `--from-literal=id=${principals.reader.accessKeyId}`, `--from-literal=secret=${principals.reader.secretAccessKey}`]);
  await cluster.kubectl(['-n', ns, 'create', 'secret', 'generic', 'aws-admin',
    `--from-literal=id=${principals.admin.accessKeyId}`, `--from-literal=secret=${principals.admin.secretAccessKey}`]);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
}, 600_000);

afterAll(async () => {
  await op?.stop();
  if (process.env.LOCKSTEP_DEBUG) await writeFile('/tmp/operator-aws.log', op?.output() ?? '');
  admin?.destroy();
  await link?.close();
  await peer?.stop();
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
});

describe('operator with an AWS Secrets Manager store', () => {
  it('validates the store and syncs properties and tagged secrets', async () => {
    await apply(cluster, JSON.stringify({
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'aws', namespace: ns },
      spec: {
        provider: { aws: { region: REGION, endpoint: `http://127.0.0.1:${link.port}`, auth: { secretRef: {
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

  it('syncs a tag with metadataPolicy Fetch beside the value of the same remote key', async () => {
    await apply(cluster, externalSecret(ns, 'tags', {
      secretStoreRef: { name: 'aws' },
      data: [
        { secretKey: 'team', remoteRef: { key: 'app/token', metadataPolicy: 'Fetch', property: 'team' } },
        { secretKey: 'token', remoteRef: { key: 'app/token' } },
        { secretKey: 'all-tags', remoteRef: { key: 'app/token', metadataPolicy: 'Fetch' } },
      ],
    }));
    await eventually(async () => (await ready('tags'))?.status === 'True', 30_000, 'tags Ready');
    expect(decodeData(await getJson(cluster, 'secret', ns, 'tags'))).toEqual({ team: 'a', token: 'aws-op-e2e-token', 'all-tags': '{"team":"a"}' });
  });

  it('assumes an ESO-style role chain (additionalRoles, then role), and names the role a broken chain could not assume', async () => {
    const chainStore = (name: string, additionalRoles: string[]) => apply(cluster, JSON.stringify({
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name, namespace: ns },
      spec: {
        provider: { aws: { region: REGION, endpoint: `http://127.0.0.1:${link.port}`, role: principals.readerRoleArn, additionalRoles, auth: { secretRef: {
          accessKeyIDSecretRef: { name: 'aws-admin', key: 'id' },
          secretAccessKeySecretRef: { name: 'aws-admin', key: 'secret' },
        } } } },
      },
    }));
    // The hop role may only assume roles, so the read proves its session assumed the reader role.
    await chainStore('aws-chain', [principals.hopRoleArn]);
    await apply(cluster, externalSecret(ns, 'chained', { secretStoreRef: { name: 'aws-chain' }, data: [{ secretKey: 'user', remoteRef: { key: 'app/db', property: 'user' } }] }));
    await eventually(async () => (await ready('chained'))?.status === 'True', 30_000, 'chained Ready');
    expect(decodeData(await getJson(cluster, 'secret', ns, 'chained'))).toEqual({ user: 'app' });
    // The empty role may not call sts:AssumeRole: the chain breaks at role.
    await chainStore('aws-chain-broken', [principals.emptyRoleArn]);
    const broken = await eventually(async () => {
      const r = readyOf(await getJson(cluster, 'secretstore', ns, 'aws-chain-broken'));
      return r?.status === 'False' ? r : undefined;
    }, 30_000, 'broken chain Ready=False');
    expect(broken.message).toContain(`assuming role '${principals.readerRoleArn}' (role, with the credentials of the role before it): AccessDenied`);
  });

  it('keeps the last good Secret through an outage and recovers when the provider is back', async () => {
    const started = Date.now();
    const before = await getJson(cluster, 'secret', ns, 'db');
    link.cut();
    const down = await eventually(async () => {
      const r = await ready('db');
      return r?.status === 'False' ? r : undefined;
    }, 30_000, 'Ready=False during the outage');
    expect(down.reason).toBe('ProviderError');
    expect((await getJson(cluster, 'secret', ns, 'db'))?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);

    await admin.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: JSON.stringify({ user: 'app', password: 'aws-op-e2e-rotated' }) }));
    link.up = true;
    await eventually(async () => decodeData(await getJson(cluster, 'secret', ns, 'db')).password === 'aws-op-e2e-rotated', 90_000, 'recovery');
    expect((await ready('db'))?.status).toBe('True');
    console.log(`outage and recovery took ${Date.now() - started} ms`);
  });

  it('never prints a secret value or a credential', () => {
    expect(findLeaks(op.output(), values)).toEqual([]);
  });
});
