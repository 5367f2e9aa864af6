// A quiet watch stays open: the API server sends a BOOKMARK about once a minute, which keeps the
// informer's idle timeout (90 s) and watchdog from restarting it. Runs a little over a minute.
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import type { KubeClientHandle } from '../../src/kube/kube-client.js';
import { CoreResources } from '../../src/kube/kube-port.js';
import { watchResource } from '../../src/kube/kube-watch.js';
import { createInformer } from '../../src/kube/resilient-informer.js';
import { countingClient, recordingLog } from './kube-fixtures.js';

let cluster: TestCluster;
let ns: string;
let kube: KubeClientHandle;
let requests: string[];

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('bookmarks');
  ({ kube, requests } = countingClient(cluster.kubeconfigPath));
});
afterAll(async () => {
  await cluster.deleteNamespace(ns);
  await kube.close();
});

it('receives bookmarks on a quiet watch and does not reconnect', async () => {
  void watchResource; // the informer below is what we measure; the import documents the layer under test
  const { log, lines } = recordingLog();
  const informer = createInformer(kube, CoreResources.secret, { namespace: ns, log, watchdogMs: 100_000 });
  const bookmarks: number[] = [];
  const started = Date.now();
  const original = kube.watch.bind(kube);
  kube.watch = (res, opts, onEvent, signal) => original(res, opts, (e) => {
    if (e.type === 'BOOKMARK') bookmarks.push(Date.now() - started);
    onEvent(e);
  }, signal);
  try {
    await informer.start();
    await new Promise((r) => setTimeout(r, 75_000));
  } finally {
    informer.stop();
    kube.watch = original;
  }
  expect(bookmarks.length).toBeGreaterThanOrEqual(1);
  expect(requests.filter((r) => r.startsWith('watch'))).toEqual(['watch secrets 200']);
  expect(requests.filter((r) => r.startsWith('list'))).toEqual(['list secrets 200']);
  expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  console.log(`bookmarks after ${bookmarks.join(', ')} ms`);
}, 120_000);
