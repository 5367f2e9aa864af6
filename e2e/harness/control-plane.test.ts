// Smoke test of the real control plane: kubectl, kube-controller-manager controllers, GC, restarts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, kubectl, loadTestCluster } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';

interface Obj { metadata: { name: string; uid: string; ownerReferences?: { kind: string; name: string }[] } }
const MINUTE = 60_000;
const items = async (out: Promise<string>): Promise<Obj[]> => (JSON.parse(await out) as { items: Obj[] }).items;

const deployment = (name: string) => JSON.stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'example.invalid/none:1' }] } },
  },
});

describe('shared control plane (global-setup)', () => {
  const cluster = loadTestCluster();
  let ns = '';
  beforeAll(async () => { ns = await cluster.createNamespace('smoke'); });
  afterAll(async () => { if (ns) await cluster.deleteNamespace(ns); });

  test('serves Kubernetes v1.34.4 to kubectl', async () => {
    const v = JSON.parse(await cluster.kubectl(['version', '-o', 'json'])) as { serverVersion: { gitVersion: string } };
    expect(v.serverVersion.gitVersion).toBe('v1.34.4');
  });

  test('a Deployment gets a ReplicaSet and a Pod from kube-controller-manager', async () => {
    await cluster.kubectl(['apply', '-n', ns, '-f', '-'], deployment('web'));
    const rs = await eventually(async () =>
      (await items(cluster.kubectl(['get', 'replicasets', '-n', ns, '-o', 'json']))).find((r) => r.metadata.ownerReferences?.[0]?.name === 'web'),
    30_000, 'ReplicaSet of web');
    expect(rs.metadata.ownerReferences?.[0]?.kind).toBe('Deployment');
    // Pods need the namespace's default ServiceAccount (ServiceAccount admission), made by kcm too.
    await eventually(async () => (await items(cluster.kubectl(['get', 'pods', '-n', ns, '-o', 'json']))).length === 1, 30_000, 'Pod of web');
  });

  test('an object whose owner is deleted is garbage-collected', async () => {
    const owner = JSON.parse(await cluster.kubectl(['create', 'configmap', 'owner', '-n', ns, '-o', 'json'])) as Obj;
    await cluster.kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
    }));
    await cluster.kubectl(['delete', 'configmap', 'owner', '-n', ns]);
    await eventually(async () =>
      !(await items(cluster.kubectl(['get', 'configmaps', '-n', ns, '-o', 'json']))).some((c) => c.metadata.name === 'owned'),
    // The shared control plane's garbage collector may first work through the namespaces (and
    // thousands of owned objects) that earlier suites deleted: allow it that backlog.
    120_000, 'garbage collection of owned');
  }, 150_000);

  test('issues ServiceAccount tokens (TokenRequest)', async () => {
    const token = (await cluster.kubectl(['create', 'token', 'default', '-n', ns])).trim();
    expect(token.split('.')).toHaveLength(3);
  });
});

describe('private control plane', () => {
  let dir = '';
  let cp: ControlPlane | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockstep-cp-test-'));
    cp = await startControlPlane({ dir });
  }, 2 * MINUTE);
  afterAll(async () => {
    await cp?.stop();
    await rm(dir, { recursive: true, force: true });
  }, MINUTE);

  test('the API answers again after restartApiserver(), on the same address', async () => {
    if (!cp) throw new Error('no control plane');
    const { kubeconfigPath, server } = cp;
    const before = cp.pids['kube-apiserver'];
    await cp.restartApiserver();
    expect(cp.pids['kube-apiserver']).not.toBe(before);
    expect(cp.server).toBe(server);
    expect((await kubectl(kubeconfigPath, ['get', '--raw', '/readyz'])).trim()).toBe('ok');
    // kube-controller-manager reconnects by itself and keeps working.
    await kubectl(kubeconfigPath, ['create', 'namespace', 'after-restart']);
    await kubectl(kubeconfigPath, ['apply', '-n', 'after-restart', '-f', '-'], deployment('web'));
    await eventually(async () => (await items(kubectl(kubeconfigPath, ['get', 'replicasets', '-n', 'after-restart', '-o', 'json']))).length === 1,
      60_000, 'ReplicaSet after restart');
  }, 2 * MINUTE);
});
