// Resource pressure on the real node: the operator runs as the chart installs it (two pods, the
// chart's default memory limit) and syncs 5,000 ExternalSecrets. Neither pod may be OOM-killed
// (restart count, last state, and the pods' memory cgroups' peak usage are read); then the leader
// is killed and the standby takes over with no Secret written for the unchanged objects.
// Runs about 3 minutes on 2 idle cores; it needs the node (`make test-e2e`).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { CHART, helm, isReady, pods, requireNode, type PodJson } from '../support/node-pods.js';

const N = 5000;
const RELEASE = 'lockstep-mem';
const OP_PODS = 'app.kubernetes.io/instance=lockstep-mem';

let cluster: TestCluster;
let ns: string;
let opNs: string;

interface PodStatus extends PodJson {
  metadata: PodJson['metadata'] & { uid: string };
  spec: { containers: { resources?: { limits?: { memory?: string } } }[] };
  status: PodJson['status'] & { qosClass?: string; containerStatuses?: { restartCount: number; lastState?: { terminated?: { reason?: string } } }[] };
}

const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

async function readyCount(): Promise<number> {
  const out = await cluster.kubectl(['get', 'externalsecrets', '-n', ns, '-o', 'jsonpath={range .items[*]}{.status.conditions[0].status}{"\\n"}{end}']);
  return out.split('\n').filter((s) => s === 'True').length;
}

/** Secret name → resourceVersion, for every Secret in the namespace. */
async function secretVersions(): Promise<Map<string, string>> {
  const out = await cluster.kubectl(['get', 'secrets', '-n', ns, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.resourceVersion}{"\\n"}{end}']);
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

/** Peak memory use of a pod's cgroup (cgroup v1 memory controller, as the harness node runs). */
async function peakMemoryMiB(pod: PodStatus): Promise<number | undefined> {
  const root = (await readFile(join(process.env.LOCKSTEP_CLUSTER_DIR ?? '', 'node/cgroup-root'), 'utf8').catch(() => '')).trim();
  const qos = (pod.status.qosClass ?? 'Burstable').toLowerCase();
  const dir = join('/sys/fs/cgroup/memory', root, 'kubepods', qos === 'guaranteed' ? '' : qos, `pod${pod.metadata.uid}`);
  const bytes = await readFile(join(dir, 'memory.max_usage_in_bytes'), 'utf8').catch(() => undefined);
  return bytes === undefined ? undefined : Math.round(Number(bytes) / 2 ** 20);
}

beforeAll(async () => {
  cluster = loadTestCluster();
  await requireNode(cluster);
  ns = await cluster.createNamespace('mem');
  opNs = await cluster.createNamespace('mem-ops');
});

afterAll(async () => {
  await helm(cluster, ['uninstall', RELEASE, '-n', opNs, '--wait']).catch(() => undefined);
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
});

describe('memory pressure on the node', () => {
  test(`the chart's pods sync ${N} ExternalSecrets within their memory limit; a killed leader's successor writes nothing`, async () => {
    await helm(cluster, ['install', RELEASE, CHART, '-n', opNs, '--set', 'image.pullPolicy=Never', '--set', 'crds.install=false',
      '--set', `watchNamespaces={${ns}}`, '--wait', '--timeout', '180s']);
    const started = Date.now();
    await cluster.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'many', namespace: ns },
      spec: { refreshInterval: '1h', provider: { fake: { data: Array.from({ length: N }, (_, i) => ({ key: `k${i}`, value: `mem-e2e-${i}` })) } } },
    }));
    for (let from = 0; from < N; from += 1000) {
      await cluster.kubectl(['apply', '--server-side', '-f', '-'], list(Array.from({ length: 1000 }, (_, j) => ({
        apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', metadata: { name: `es${from + j}`, namespace: ns },
        spec: { secretStoreRef: { name: 'many' }, refreshInterval: '1h', data: [{ secretKey: 'v', remoteRef: { key: `k${from + j}` } }] },
      }))));
    }
    await eventually(async () => (await readyCount()) === N, 600_000, `${N} ExternalSecrets Ready`);
    const synced = Date.now() - started;

    const running = (await pods(cluster, opNs, OP_PODS)) as PodStatus[];
    const limit = running[0]?.spec.containers[0]?.resources?.limits?.memory;
    const peaks = await Promise.all(running.map(peakMemoryMiB));
    console.log(`${N} synced in ${synced} ms on the node; memory limit ${limit}; peak cgroup memory per pod (MiB): ${peaks.join(', ')}`);
    expect(running).toHaveLength(2);
    for (const p of running) {
      const s = p.status.containerStatuses?.[0];
      expect({ pod: p.metadata.name, restarts: s?.restartCount, last: s?.lastState?.terminated?.reason })
        .toEqual({ pod: p.metadata.name, restarts: 0, last: undefined });
    }

    // The leader dies; its successor finds every Secret intact and writes none of them (every
    // Secret keeps its resourceVersion).
    const before = await secretVersions();
    expect(before.size).toBe(N);
    const lease = () => cluster.kubectl(['get', 'lease', 'lockstep-mem-controller', '-n', opNs, '-o', 'jsonpath={.spec.holderIdentity}']);
    const leader = (await lease()).trim();
    await cluster.kubectl(['delete', 'pod', '-n', opNs, leader, '--grace-period=0', '--force']);
    const tookOver = Date.now();
    await eventually(async () => !['', leader].includes((await lease()).trim()), 90_000, 'a new leader');
    console.log(`new leader after ${Date.now() - tookOver} ms`);
    await eventually(async () => (await pods(cluster, opNs, OP_PODS)).filter(isReady).length === 2, 120_000, 'two Ready pods again');
    await new Promise((r) => setTimeout(r, 15_000));
    const after = await secretVersions();
    expect([...after].filter(([name, rv]) => before.get(name) !== rv)).toEqual([]);
  }, 900_000);
});
