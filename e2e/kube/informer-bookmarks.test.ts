// Bookmarks keep a watch on a quiet selection alive: the API server sends one to each watcher about
// once a minute, but only when the resource type changed somewhere in the cluster since the watch
// began (a bookmark never repeats the watch's own resourceVersion). On a resource type nobody
// writes, no bookmark comes: the informer's idle timeout then resumes the watch, and its watchdog
// relists. Runs a little over a minute.
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import type { KubeClientHandle, ListWatchSource } from '../../src/kube/kube-client.js';
import { CoreResources, type KubeObject, type Resource } from '../../src/kube/kube-port.js';
import type { WatchEvent, WatchOptions } from '../../src/kube/kube-watch.js';
import { createInformer } from '../../src/kube/resilient-informer.js';
import { countingClient, recordingLog } from './kube-fixtures.js';

let cluster: TestCluster;
let ns: string;
let elsewhere: string;
let kube: KubeClientHandle;
let requests: string[];

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('bookmarks');
  elsewhere = await cluster.createNamespace('bookmarks-other');
  ({ kube, requests } = countingClient(cluster.kubeconfigPath));
});
afterAll(async () => {
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(elsewhere);
  await kube.close();
});

it('receives bookmarks while Secrets change elsewhere, and keeps its one watch open', async () => {
  const { log, lines } = recordingLog();
  const bookmarks: number[] = [];
  const started = Date.now();
  const noting: ListWatchSource = {
    list: (res, opts) => kube.list(res, opts),
    watch<T extends KubeObject>(res: Resource, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal) {
      return kube.watch<T>(res, opts, (e) => {
        if (e.type === 'BOOKMARK') bookmarks.push(Date.now() - started);
        onEvent(e);
      }, signal);
    },
  };
  const informer = createInformer(noting, CoreResources.secret, { namespace: ns, log, watchdogMs: 100_000 });
  const churn = setInterval(() => {
    kube.apply(CoreResources.secret, { metadata: { name: 'churn', namespace: elsewhere }, stringData: { at: String(Date.now()) } })
      .catch(() => undefined);
  }, 5_000);
  try {
    await informer.start();
    await new Promise((r) => setTimeout(r, 75_000));
  } finally {
    clearInterval(churn);
    informer.stop();
  }
  console.log(`bookmarks after ${bookmarks.join(', ')} ms`);
  expect(bookmarks.length).toBeGreaterThanOrEqual(1);
  expect(bookmarks[0]).toBeGreaterThan(50_000);
  expect(requests.filter((r) => r.startsWith('watch'))).toEqual(['watch secrets 200']);
  expect(requests.filter((r) => r.startsWith('list'))).toEqual(['list secrets 200']);
  expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
}, 120_000);
