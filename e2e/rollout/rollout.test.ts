// Rotation and rollout on the real control plane: kube-controller-manager turns a patched pod
// template into a new ReplicaSet. Workloads run 0 replicas (no nodes here), so a rollout completes
// at once unless a test wants one to stay in flight.
import { writeFile } from 'node:fs/promises';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, externalSecret, getJson, readyOf, secretStore, type FakeEntry } from '../support/resources.js';
import { eventReasons, getWorkload, replicaSets, workload } from './workloads.js';

let cluster: TestCluster;
let opNs: string;

beforeAll(async () => {
  cluster = loadTestCluster();
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
});
afterAll(async () => cluster.deleteNamespace(opNs));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A namespace with its own operator, started with the given rollout flags. */
function scenario(flags: string[]) {
  const ctx = { ns: '', op: undefined as RunningOperator | undefined };
  beforeAll(async () => {
    ctx.ns = await cluster.createNamespace('rollout');
    ctx.op = await start(ctx.ns, flags);
  });
  afterAll(async () => {
    await ctx.op?.stop();
    if (process.env.LOCKSTEP_DEBUG) await writeFile(`/tmp/operator-${ctx.ns}.log`, ctx.op?.output() ?? '');
    await cluster.deleteNamespace(ctx.ns);
  });
  return ctx;
}

function start(ns: string, flags: string[]): Promise<RunningOperator> {
  return startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns, extraArgs: flags });
}

async function storeWith(ns: string, data: FakeEntry[]): Promise<void> {
  await apply(cluster, secretStore(ns, 'st', data, '1s'));
}

async function syncedES(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await apply(cluster, externalSecret(ns, name, { secretStoreRef: { name: 'st' }, refreshInterval: '1s', ...spec }));
  await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', ns, name))?.status === 'True', 30_000, `${name} Ready`);
}

const generation = async (kind: string, ns: string, name: string) => (await getWorkload(cluster, kind, ns, name)).metadata.generation;
const autoOptIn = { 'lockstep.dev/restart-on': 'auto' };

describe('restarts on rotation', () => {
  const s = scenario(['--rollout-window', '1s', '--rollout-min-interval', '0s']);

  it('rolls a Deployment that reads the Secret through env: a new ReplicaSet, events, status', async () => {
    await storeWith(s.ns, [{ key: 'db', value: '{"password":"rot-e2e-1","user":"u"}' }]);
    await syncedES(s.ns, 'db', { dataFrom: [{ extract: { key: 'db' } }] });
    await apply(cluster, workload('Deployment', s.ns, 'app', { annotations: autoOptIn, env: [{ name: 'PW', secret: 'db', key: 'password' }] }));
    await eventually(async () => (await replicaSets(cluster, s.ns, 'app')) === 1, 30_000, 'the first ReplicaSet');

    await storeWith(s.ns, [{ key: 'db', value: '{"password":"rot-e2e-2","user":"u"}' }]);
    await eventually(async () => (await replicaSets(cluster, s.ns, 'app')) === 2, 30_000, 'a second ReplicaSet');
    const d = await getWorkload(cluster, 'deployment', s.ns, 'app');
    expect(d.spec.template.metadata.annotations?.['lockstep.dev/restarted-for']).toBeDefined();
    const es = await getJson(cluster, 'externalsecret', s.ns, 'db');
    const status = es?.status as { lastRotationTime?: string; lastRollout?: { workloads: string[] }; pendingRollout?: unknown };
    expect(status.lastRotationTime).toBeDefined();
    expect(status.lastRollout?.workloads).toEqual(['Deployment/app']);
    expect(status.pendingRollout).toBeUndefined();
    expect(await eventReasons(cluster, s.ns, 'db')).toContain('SecretRotated');
    expect(await eventReasons(cluster, s.ns, 'app')).toContain('RolloutRestartTriggered');
  });

  it('patches StatefulSet and DaemonSet templates named as targets', async () => {
    await apply(cluster, workload('StatefulSet', s.ns, 'sts', { volumes: ['db'] }));
    await apply(cluster, workload('DaemonSet', s.ns, 'ds', { envFrom: ['db'] }));
    await syncedES(s.ns, 'db', { dataFrom: [{ extract: { key: 'db' } }], rollout: { targets: [{ kind: 'StatefulSet', name: 'sts' }, { kind: 'DaemonSet', name: 'ds' }] } });
    await storeWith(s.ns, [{ key: 'db', value: '{"password":"rot-e2e-3","user":"u"}' }]);
    for (const [kind, name] of [['statefulset', 'sts'], ['daemonset', 'ds']] as const) {
      await eventually(async () => (await getWorkload(cluster, kind, s.ns, name)).spec.template.metadata.annotations?.['lockstep.dev/restarted-for'], 30_000, `${kind} restarted`);
    }
  });

  it('chooses targets by label selector', async () => {
    await apply(cluster, workload('Deployment', s.ns, 'web', { labels: { tier: 'web' } }));
    await apply(cluster, workload('Deployment', s.ns, 'batch', { labels: { tier: 'batch' } }));
    await syncedES(s.ns, 'db', { dataFrom: [{ extract: { key: 'db' } }], rollout: { targets: [{ kind: 'Deployment', selector: { matchLabels: { tier: 'web' } } }] } });
    await storeWith(s.ns, [{ key: 'db', value: '{"password":"rot-e2e-4","user":"u"}' }]);
    await eventually(async () => (await generation('deployment', s.ns, 'web')) === 2, 30_000, 'web restarted');
    expect(await generation('deployment', s.ns, 'batch')).toBe(1);
  });
});

describe('no restart without a consumed change', () => {
  const s = scenario(['--rollout-window', '1s', '--rollout-min-interval', '0s']);

  it('not on first sync, unchanged refresh, operator restart, or a change of a key it does not read', async () => {
    await apply(cluster, workload('Deployment', s.ns, 'reader', { annotations: autoOptIn, env: [{ name: 'A', secret: 'two', key: 'a' }] }));
    await storeWith(s.ns, [{ key: 'two', value: '{"a":"keep-e2e-a","b":"keep-e2e-b1"}' }]);
    await syncedES(s.ns, 'two', { dataFrom: [{ extract: { key: 'two' } }] });
    await sleep(4000); // several unchanged refreshes
    expect(await generation('deployment', s.ns, 'reader')).toBe(1);

    await s.op?.stop();
    s.op = await start(s.ns, ['--rollout-window', '1s', '--rollout-min-interval', '0s']);
    await sleep(3000);
    expect(await generation('deployment', s.ns, 'reader')).toBe(1);

    await storeWith(s.ns, [{ key: 'two', value: '{"a":"keep-e2e-a","b":"keep-e2e-b2"}' }]);
    await eventually(async () => (await getJson(cluster, 'externalsecret', s.ns, 'two'))?.status?.['lastRotationTime' as never], 20_000, 'the rotation');
    await sleep(3000);
    expect(await generation('deployment', s.ns, 'reader')).toBe(1);
  });
});

describe('coalescing', () => {
  const s = scenario(['--rollout-window', '3s', '--rollout-min-interval', '0s']);

  it('five Secrets rotating together restart the Deployment that uses them all once', async () => {
    const names = ['s1', 's2', 's3', 's4', 's5'];
    const data = (v: string) => names.map((n) => ({ key: n, value: `${n}-${v}` }));
    await storeWith(s.ns, data('one'));
    for (const n of names) await syncedES(s.ns, n, { data: [{ secretKey: 'v', remoteRef: { key: n } }] });
    await apply(cluster, workload('Deployment', s.ns, 'all', { annotations: autoOptIn, envFrom: names }));
    await eventually(async () => (await replicaSets(cluster, s.ns, 'all')) === 1, 30_000, 'the first ReplicaSet');

    await storeWith(s.ns, data('two'));
    await eventually(async () => (await generation('deployment', s.ns, 'all')) === 2, 30_000, 'one restart');
    await sleep(5000);
    expect(await generation('deployment', s.ns, 'all')).toBe(2);
    expect(await replicaSets(cluster, s.ns, 'all')).toBe(2);
  });
});

describe('coalescing while another workload is still owed a restart', () => {
  // The window is measured per workload: an older restart the same ExternalSecret still owes to a
  // paused workload must not make two quick changes restart another workload twice.
  const s = scenario(['--rollout-min-interval', '0s']);   // default window (5s)

  it('two quick changes restart a workload once while a paused one waits', async () => {
    const pay = (db: string, webhook: string) => [{ key: 'pay/db', value: db }, { key: 'pay/webhook', value: webhook }];
    await storeWith(s.ns, pay('db-1', 'wh-1'));
    await syncedES(s.ns, 'pay-secrets', { data: [
      { secretKey: 'db_password', remoteRef: { key: 'pay/db' } },
      { secretKey: 'webhook_key', remoteRef: { key: 'pay/webhook' } },
    ] });
    await apply(cluster, workload('Deployment', s.ns, 'checkout', { annotations: autoOptIn, env: [{ name: 'DB', secret: 'pay-secrets', key: 'db_password' }] }));
    await apply(cluster, workload('Deployment', s.ns, 'notifier', {
      annotations: { 'lockstep.dev/restart-on': 'pay-secrets', 'lockstep.dev/restart-paused': 'true' }, volumes: ['pay-secrets'],
    }));
    await eventually(async () => (await replicaSets(cluster, s.ns, 'checkout')) === 1 && (await replicaSets(cluster, s.ns, 'notifier')) === 1, 30_000, 'first ReplicaSets');
    const secretValue = async (key: string) =>
      Buffer.from(await cluster.kubectl(['get', 'secret', 'pay-secrets', '-n', s.ns, '-o', `jsonpath={.data.${key}}`]), 'base64').toString();

    await storeWith(s.ns, pay('db-1', 'wh-2'));   // notifier now owes a restart, held by the pause
    await eventually(async () => {
      const es = await getJson(cluster, 'externalsecret', s.ns, 'pay-secrets');
      return (es?.status as { pendingRollout?: { workloads: string[] } }).pendingRollout?.workloads.includes('Deployment/notifier');
    }, 20_000, 'notifier owed');
    await sleep(6000);   // the notifier's rotation is older than the window

    const first = Date.now();
    await storeWith(s.ns, pay('db-2', 'wh-2'));
    await eventually(async () => (await secretValue('db_password')) === 'db-2', 10_000, 'the first db change written');
    await storeWith(s.ns, pay('db-3', 'wh-2'));
    await eventually(async () => (await secretValue('db_password')) === 'db-3', 10_000, 'the second db change written');
    expect(Date.now() - first).toBeLessThan(5000);   // both inside one window

    await eventually(async () => (await generation('deployment', s.ns, 'checkout')) >= 2, 20_000, 'checkout restarted');
    await sleep(8000);
    expect(await generation('deployment', s.ns, 'checkout')).toBe(2);
    expect(await replicaSets(cluster, s.ns, 'checkout')).toBe(2);
    expect(await generation('deployment', s.ns, 'notifier')).toBe(1);   // still paused
  });
});

describe('minimum interval', () => {
  const flags = ['--rollout-window', '0s', '--rollout-min-interval', '0s'];
  const s = scenario(flags);

  it('defers a second restart, keeps it across an operator restart, and does it once', async () => {
    await apply(cluster, workload('Deployment', s.ns, 'slow', { annotations: { ...autoOptIn, 'lockstep.dev/restart-min-interval': '12s' }, envFrom: ['m'] }));
    await storeWith(s.ns, [{ key: 'm', value: 'min-e2e-1' }]);
    await syncedES(s.ns, 'm', { data: [{ secretKey: 'v', remoteRef: { key: 'm' } }] });
    await storeWith(s.ns, [{ key: 'm', value: 'min-e2e-2' }]);
    await eventually(async () => (await generation('deployment', s.ns, 'slow')) === 2, 20_000, 'the first restart');
    const firstAt = Date.now();

    await storeWith(s.ns, [{ key: 'm', value: 'min-e2e-3' }]);
    await eventually(async () => (await eventReasons(cluster, s.ns, 'slow')).includes('RolloutRestartDeferred'), 10_000, 'a deferral');
    expect(await generation('deployment', s.ns, 'slow')).toBe(2);
    await s.op?.stop();
    s.op = await start(s.ns, flags);

    await eventually(async () => (await generation('deployment', s.ns, 'slow')) === 3, 30_000, 'the deferred restart');
    // 12 s after the first restart, which the workload's restarted-at annotation records to the
    // second (so up to 1 s early), and which this test saw up to about a second late.
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(10_000);
    await sleep(4000);
    expect(await generation('deployment', s.ns, 'slow')).toBe(3);
  });
});

describe('cluster-wide cap', () => {
  const s = scenario(['--rollout-window', '0s', '--rollout-min-interval', '0s', '--max-rollouts-in-flight', '1']);

  it('defers a restart while another rollout is in flight, then does it once', async () => {
    // 'stuck' has one replica and no node to run it on: its rollout stays in flight.
    await apply(cluster, workload('Deployment', s.ns, 'stuck', { annotations: autoOptIn, envFrom: ['sx'], replicas: 1 }));
    await apply(cluster, workload('Deployment', s.ns, 'waiting', { annotations: autoOptIn, envFrom: ['sy'] }));
    await storeWith(s.ns, [{ key: 'x', value: 'cap-e2e-x1' }, { key: 'y', value: 'cap-e2e-y1' }]);
    await syncedES(s.ns, 'sx', { data: [{ secretKey: 'v', remoteRef: { key: 'x' } }] });
    await syncedES(s.ns, 'sy', { data: [{ secretKey: 'v', remoteRef: { key: 'y' } }] });

    await storeWith(s.ns, [{ key: 'x', value: 'cap-e2e-x2' }, { key: 'y', value: 'cap-e2e-y1' }]);
    await eventually(async () => (await generation('deployment', s.ns, 'stuck')) === 2, 20_000, 'stuck restarted');
    await storeWith(s.ns, [{ key: 'x', value: 'cap-e2e-x2' }, { key: 'y', value: 'cap-e2e-y2' }]);
    await eventually(async () => (await eventReasons(cluster, s.ns, 'waiting')).includes('RolloutRestartDeferred'), 20_000, 'a deferral');
    expect(await generation('deployment', s.ns, 'waiting')).toBe(1);

    await cluster.kubectl(['scale', 'deployment', 'stuck', '-n', s.ns, '--replicas=0']);
    await eventually(async () => (await generation('deployment', s.ns, 'waiting')) === 2, 30_000, 'the deferred restart');
    await sleep(3000);
    expect(await generation('deployment', s.ns, 'waiting')).toBe(2);
  });
});
