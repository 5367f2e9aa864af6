// Watching every namespace, the Secret index and the workload caches are kept only for the
// namespaces that hold ExternalSecrets (src/kube/namespace-scope.ts), per namespace up to
// --scoped-caches-max-namespaces and cluster-wide above it. On a control plane of its own: the
// operator here watches all namespaces and must not see other tests' objects.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import { eventually, kubectl, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf, secretStore } from '../support/resources.js';
import { getWorkload, workload } from './workloads.js';

let cp: ControlPlane;
let dir: string;
let cluster: TestCluster;
let op: RunningOperator | undefined;

const NAMESPACES = ['team-a', 'team-b', 'team-c', 'quiet'];
const restartedFor = async (ns: string, name: string) =>
  (await getWorkload(cluster, 'deployment', ns, name)).spec.template.metadata.annotations?.['lockstep.dev/restarted-for'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockstep-scoped-'));
  cp = await startControlPlane({ dir, controllerManager: false });
  await prepareCluster(cp.kubeconfigPath, 'lockstep-system');
  cluster = { ...loadTestCluster(), kubeconfigPath: cp.kubeconfigPath, kubectl: (args, input) => kubectl(cp.kubeconfigPath, args, input) };
  for (const ns of NAMESPACES) await cluster.kubectl(['create', 'namespace', ns]);
  // What the operator must never need: a namespace of workloads and Secrets without ExternalSecrets.
  await apply(cluster, workload('Deployment', 'quiet', 'bystander', { env: [{ name: 'X', secret: 'db', key: 'password' }] }));
  await cluster.kubectl(['create', 'secret', 'generic', 'db', '-n', 'quiet', '--from-literal=password=bystander-e2e']);
  op = await startOperator({
    kubeconfigPath: cp.kubeconfigPath,
    operatorNamespace: 'lockstep-system',
    extraArgs: ['--scoped-caches-max-namespaces', '2', '--rollout-window', '1s', '--rollout-min-interval', '0s'],
  });
});

afterAll(async () => {
  await op?.stop('SIGKILL');
  await cp?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function rotatingStore(ns: string, password: string): Promise<void> {
  await apply(cluster, secretStore(ns, 'st', [{ key: 'db', value: JSON.stringify({ password }) }], '1s'));
}

async function syncedES(ns: string, name: string, spec: Record<string, unknown> = {}): Promise<void> {
  await apply(cluster, externalSecret(ns, name, { secretStoreRef: { name: 'st' }, refreshInterval: '1s', dataFrom: [{ extract: { key: 'db' } }], ...spec }));
  await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', ns, name))?.status === 'True', 30_000, `${ns}/${name} Ready`);
}

/** Rotates team-a's value and waits for the Deployment reading it to be restarted for the new one. */
async function rotateAndRestart(password: string): Promise<void> {
  const before = await restartedFor('team-a', 'app');
  await rotatingStore('team-a', password);
  await eventually(async () => decodeData(await getJson(cluster, 'secret', 'team-a', 'db')).password === password, 30_000, 'the new value');
  await eventually(async () => {
    const now = await restartedFor('team-a', 'app');
    return now !== undefined && now !== before;
  }, 30_000, 'team-a/app restarted');
}

const logged = (text: string) => op?.output().includes(text) ?? false;

/**
 * Watches open on the API server for a resource, by scope (its own gauge,
 * apiserver_longrunning_requests): this control plane runs no kube-controller-manager, so every
 * watch of Deployments is the operator's.
 */
async function watches(resource: string, scope: 'cluster' | 'namespace'): Promise<number> {
  const text = await cluster.kubectl(['get', '--raw', '/metrics']);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_longrunning_requests{')) continue;
    if (line.includes(`resource="${resource}"`) && line.includes(`scope="${scope}"`) && line.includes('verb="WATCH"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/** Waits until the operator holds this many watches of Deployments, cluster-wide and per namespace. */
async function deploymentWatches(want: { cluster: number; namespace: number }): Promise<void> {
  await eventually(async () => {
    const got = { cluster: await watches('deployments', 'cluster'), namespace: await watches('deployments', 'namespace') };
    return got.cluster === want.cluster && got.namespace === want.namespace;
  }, 30_000, `Deployment watches ${JSON.stringify(want)}`);
}

describe('caches scoped to the namespaces holding ExternalSecrets', () => {
  it('a namespace whose first ExternalSecret comes after the start: a Secret someone else owns is found, a consumer restarted', async () => {
    await deploymentWatches({ cluster: 0, namespace: 0 }); // no ExternalSecret anywhere: nothing watched
    await cluster.kubectl(['create', 'secret', 'generic', 'taken', '-n', 'team-a', '--from-literal=x=theirs-e2e']);
    await rotatingStore('team-a', 'scoped-e2e-1');
    await apply(cluster, externalSecret('team-a', 'taken', { secretStoreRef: { name: 'st' }, dataFrom: [{ extract: { key: 'db' } }] }));
    await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', 'team-a', 'taken'))?.reason === 'TargetConflict', 30_000, 'TargetConflict');
    expect(decodeData(await getJson(cluster, 'secret', 'team-a', 'taken'))).toEqual({ x: 'theirs-e2e' });

    await syncedES('team-a', 'db');
    await apply(cluster, workload('Deployment', 'team-a', 'app', { annotations: { 'lockstep.dev/restart-on': 'auto' }, env: [{ name: 'PW', secret: 'db', key: 'password' }] }));
    await rotateAndRestart('scoped-e2e-2');
    // The bystander reads a Secret of the same name in a namespace without ExternalSecrets.
    expect((await getWorkload(cluster, 'deployment', 'quiet', 'bystander')).metadata.generation).toBe(1);
    await deploymentWatches({ cluster: 0, namespace: 1 }); // team-a's only
    expect(await op?.metrics()).toContain('lockstep_cache_namespaces{scope="per-namespace"} 1');
    expect(await watches('secrets', 'namespace')).toBe(1); // the index of every Secret, team-a's only
  });

  it('above the limit one cluster-wide cache takes over; back within half of it, per namespace again; restarts all along', async () => {
    for (const ns of ['team-b', 'team-c']) {
      await rotatingStore(ns, `scoped-e2e-${ns}`);
      await syncedES(ns, 'db');
    }
    await eventually(async () => logged('Secret index and workloads cached cluster-wide'), 30_000, 'the switch to cluster-wide caches');
    await deploymentWatches({ cluster: 1, namespace: 0 }); // one watch instead of three, once it has listed
    expect(await op?.metrics()).toContain('lockstep_cache_namespaces{scope="cluster-wide"} 3');
    await rotateAndRestart('scoped-e2e-3');
    // The cluster-wide index knows Secrets in every namespace it now holds.
    await cluster.kubectl(['create', 'secret', 'generic', 'taken', '-n', 'team-c', '--from-literal=x=theirs-e2e']);
    await apply(cluster, externalSecret('team-c', 'taken', { secretStoreRef: { name: 'st' }, dataFrom: [{ extract: { key: 'db' } }] }));
    await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', 'team-c', 'taken'))?.reason === 'TargetConflict', 30_000, 'TargetConflict in team-c');

    for (const ns of ['team-b', 'team-c']) await cluster.kubectl(['delete', 'externalsecret', '--all', '-n', ns, '--wait=true']);
    await eventually(async () => logged('Secret index and workloads cached per namespace'), 30_000, 'the switch back to per-namespace caches');
    await deploymentWatches({ cluster: 0, namespace: 1 });
    await rotateAndRestart('scoped-e2e-4');
    expect(op?.process.exitCode).toBeNull();
  });
});
