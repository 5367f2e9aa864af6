// Restarts: of the operator (no writes, no provider-driven changes) and of the apiserver under it
// (the operator keeps syncing), and leader hand-over when the leader process is killed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { eventually, kubectl, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { decodeData, externalSecret, getJson, readyOf, secretStore } from '../support/resources.js';

const SECRET_WRITES = ['create', 'patch', 'update', 'apply', 'delete'];

async function secretWrites(op: RunningOperator): Promise<number> {
  let total = 0;
  for (const verb of SECRET_WRITES) total += await op.counter('lockstep_kube_requests_total', { verb, resource: 'secrets' });
  return total;
}

function clusterOf(kubeconfigPath: string): TestCluster {
  return { ...loadTestCluster(), kubeconfigPath, kubectl: (args, input) => kubectl(kubeconfigPath, args, input) };
}

async function waitSynced(cluster: TestCluster, ns: string, name: string): Promise<void> {
  await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', ns, name))?.status === 'True', 30_000, `${name} Ready`);
}

describe('operator restart', () => {
  let cluster: TestCluster;
  let ns: string;
  let opNs: string;
  const ops: RunningOperator[] = [];

  beforeAll(async () => {
    cluster = loadTestCluster();
    ns = await cluster.createNamespace('restart');
    opNs = await cluster.createNamespace('ops');
    await prepareCluster(cluster.kubeconfigPath, opNs);
  });
  afterAll(async () => {
    await Promise.all(ops.map((o) => o.stop('SIGKILL')));
    await cluster.deleteNamespace(ns);
    await cluster.deleteNamespace(opNs);
  });

  it('causes no Secret or status writes and no events', async () => {
    const first = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
    ops.push(first);
    await cluster.kubectl(['apply', '-f', '-'], secretStore(ns, 'st', [{ key: 'k', value: '{"a":"restart-e2e-a","b":"restart-e2e-b"}' }], '1h'));
    for (let i = 0; i < 5; i++) {
      await cluster.kubectl(['apply', '-f', '-'], externalSecret(ns, `es-${i}`, { secretStoreRef: { name: 'st' }, dataFrom: [{ extract: { key: 'k' } }] }));
    }
    for (let i = 0; i < 5; i++) await waitSynced(cluster, ns, `es-${i}`);
    const snapshot = async () =>
      Promise.all(Array.from({ length: 5 }, async (_, i) => [
        (await getJson(cluster, 'secret', ns, `es-${i}`))?.metadata.resourceVersion,
        (await getJson(cluster, 'externalsecret', ns, `es-${i}`))?.metadata.resourceVersion,
      ]));
    const before = await snapshot();
    await first.stop();

    const second = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
    ops.push(second);
    // Wait until the new process has reconciled every ExternalSecret.
    await eventually(async () => (await second.counter('lockstep_reconcile_total', { controller: 'externalsecret' })) >= 5, 20_000, 'reconciles');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await snapshot()).toEqual(before);
    expect(await secretWrites(second)).toBe(0);
    expect(await second.counter('lockstep_kube_requests_total', { verb: 'patch', resource: 'externalsecrets.lockstep.dev/status' })).toBe(0);
    expect(await second.counter('lockstep_provider_requests_total', { operation: 'getSecretMap' })).toBe(0);
  });
});

describe('leader election', () => {
  let cluster: TestCluster;
  let ns: string;
  let opNs: string;
  const ops: RunningOperator[] = [];

  beforeAll(async () => {
    cluster = loadTestCluster();
    ns = await cluster.createNamespace('leader');
    opNs = await cluster.createNamespace('ops');
    await prepareCluster(cluster.kubeconfigPath, opNs);
    await cluster.kubectl(['apply', '-f', '-'], secretStore(ns, 'st', [{ key: 'k', value: 'leader-e2e-value' }]));
  });
  afterAll(async () => {
    await Promise.all(ops.map((o) => o.stop('SIGKILL')));
    await cluster.deleteNamespace(ns);
    await cluster.deleteNamespace(opNs);
  });

  it('hands over to the standby when the leader process is killed', async () => {
    for (const identity of ['replica-a', 'replica-b']) {
      ops.push(await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns, leaderElect: true, identity }));
    }
    const holder = async () => (await cluster.kubectl(['get', 'lease', 'lockstep-controller', '-n', opNs, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
    const leader = await eventually(async () => (await holder()) || undefined, 30_000, 'a leader');
    await cluster.kubectl(['apply', '-f', '-'], externalSecret(ns, 'before', { secretStoreRef: { name: 'st' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] }));
    await waitSynced(cluster, ns, 'before');

    const leaderOp = ops[leader === 'replica-a' ? 0 : 1] as RunningOperator;
    const standby = ops[leader === 'replica-a' ? 1 : 0] as RunningOperator;
    expect(await standby.counter('lockstep_reconcile_total', { controller: 'externalsecret' })).toBe(0);
    const killedAt = Date.now();
    await leaderOp.stop('SIGKILL');
    await cluster.kubectl(['apply', '-f', '-'], externalSecret(ns, 'after', { secretStoreRef: { name: 'st' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] }));
    await waitSynced(cluster, ns, 'after');
    expect(await holder()).not.toBe(leader);
    // The lease lasts 15 s from the last renewal the standby saw; allow retry periods and CI load.
    expect(Date.now() - killedAt).toBeLessThan(32_000);
  });
});

describe('apiserver restart', () => {
  let cp: ControlPlane;
  let dir: string;
  let op: RunningOperator | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockstep-restart-'));
    cp = await startControlPlane({ dir, controllerManager: false });
    await prepareCluster(cp.kubeconfigPath, 'lockstep-system');
  });
  afterAll(async () => {
    await op?.stop('SIGKILL');
    await cp?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps syncing after the apiserver is restarted under it', async () => {
    const cluster = clusterOf(cp.kubeconfigPath);
    const ns = 'apisrv';
    await cluster.kubectl(['create', 'namespace', ns]);
    op = await startOperator({ kubeconfigPath: cp.kubeconfigPath, operatorNamespace: 'lockstep-system' });
    await cluster.kubectl(['apply', '-f', '-'], secretStore(ns, 'st', [{ key: 'k', value: 'apiserver-e2e-one' }], '2s'));
    await cluster.kubectl(['apply', '-f', '-'], externalSecret(ns, 'es', { secretStoreRef: { name: 'st' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] }));
    await waitSynced(cluster, ns, 'es');

    await cp.restartApiserver();

    // A change made after the restart must flow through the re-established watches and writes.
    await cluster.kubectl(['apply', '-f', '-'], secretStore(ns, 'st', [{ key: 'k', value: 'apiserver-e2e-two' }], '2s'));
    await eventually(async () => decodeData(await getJson(cluster, 'secret', ns, 'es')).v === 'apiserver-e2e-two', 60_000, 'sync after restart');
    await cluster.kubectl(['apply', '-f', '-'], externalSecret(ns, 'new', { secretStoreRef: { name: 'st' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] }));
    await waitSynced(cluster, ns, 'new');
    expect(op.process.exitCode).toBeNull();
  });
});
