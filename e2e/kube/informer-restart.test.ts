// The informer and client survive a kube-apiserver restart. This file starts its own control plane
// (the shared one from globalSetup cannot be restarted from a test worker).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.js';
import type { KubeClientHandle } from '../../src/kube/kube-client.js';
import { CoreResources, type Informer, type KubeObject } from '../../src/kube/kube-port.js';
import { createInformer } from '../../src/kube/resilient-informer.js';
import { countingClient, recordingLog, waitUntil } from './kube-fixtures.js';

let cp: ControlPlane;
let dir: string;
let kube: KubeClientHandle;
let requests: string[];
let informer: Informer<KubeObject> | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockstep-kube-restart-'));
  cp = await startControlPlane({ dir, controllerManager: false });
  ({ kube, requests } = countingClient(cp.kubeconfigPath, { requestTimeoutMs: 10_000 }));
}, 180_000);
afterAll(async () => {
  informer?.stop();
  await kube?.close();
  await cp?.stop();
  if (dir && !process.env.LOCKSTEP_KEEP_CLUSTER_DIR) await rm(dir, { recursive: true, force: true });
});

it('keeps the informer working across an API server restart', async () => {
  const { log, lines } = recordingLog();
  const seen: string[] = [];
  informer = createInformer(kube, CoreResources.secret, {
    namespace: 'default', labelSelector: 'restart-test=yes', log, backoff: { baseMs: 200, maxMs: 2_000 },
  });
  informer.on('add', (o) => seen.push(`add ${o.metadata.name}`));
  informer.on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
  const put = (name: string) =>
    kube.apply(CoreResources.secret, { metadata: { name, namespace: 'default', labels: { 'restart-test': 'yes' } } });

  await put('before');
  await informer.start();
  await waitUntil('watch open', () => requests.includes('watch secrets 200'));

  await cp.restartApiserver();
  await put('after');
  await kube.delete(CoreResources.secret, 'before', 'default');
  await waitUntil('add after restart', () => seen.includes('add after'), 60_000);
  await waitUntil('delete after restart', () => seen.includes('delete before'), 60_000);
  expect(informer.list().map((o) => o.metadata.name)).toEqual(['after']);
  expect(informer.hasSynced()).toBe(true);
  // The restart was noticed as an error (a dropped watch or refused connection) and retried.
  expect(lines.some((l) => l.level === 'warn' || l.level === 'info')).toBe(true);
  expect(requests.filter((r) => r.startsWith('watch secrets')).length).toBeGreaterThanOrEqual(2);

  // A second restart while a retry backoff may be running changes nothing.
  await cp.restartApiserver();
  await put('after-second');
  await waitUntil('add after second restart', () => seen.includes('add after-second'), 60_000);
}, 180_000);
