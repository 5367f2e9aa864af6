// The resilient informer against a real kube-apiserver: list, add/update/delete, label selectors,
// metadata-only caches, and recovery when the connection under a watch is cut or goes silent.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import type { KubeClientHandle } from '../../src/kube/kube-client.js';
import { CoreResources, type Informer, type KubeObject } from '../../src/kube/kube-port.js';
import { createInformer, type InformerOptions } from '../../src/kube/resilient-informer.js';
import { countingClient, kubeconfigVia, recordingLog, serverPort, uniqueName, waitUntil, type LogLine } from './kube-fixtures.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

let cluster: TestCluster;
let ns: string;
let kube: KubeClientHandle;
const informers: Informer<KubeObject>[] = [];

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('informer');
  ({ kube } = countingClient(cluster.kubeconfigPath));
});
afterEach(() => {
  for (const inf of informers.splice(0)) inf.stop();
});
afterAll(async () => {
  await cluster.deleteNamespace(ns);
  await kube.close();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const put = (name: string, value: string, labels: Record<string, string> = { app: 'lockstep' }) =>
  kube.apply(CoreResources.secret, { metadata: { name, namespace: ns, labels }, data: { k: b64(value) } });

function track(source: KubeClientHandle, opts: Partial<InformerOptions> = {}) {
  const seen: string[] = [];
  const { log, lines } = recordingLog();
  const informer = createInformer<SecretObject>(source, CoreResources.secret, { namespace: ns, log, ...opts });
  informers.push(informer);
  informer.on('add', (o) => seen.push(`add ${o.metadata.name}`));
  informer.on('update', (o, old) => seen.push(`update ${o.metadata.name} ${old?.data?.k ? Buffer.from(old.data.k, 'base64').toString() : ''}->${o.data?.k ? Buffer.from(o.data.k, 'base64').toString() : ''}`));
  informer.on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
  return { informer, seen, lines };
}

const valueOf = (inf: Informer<SecretObject>, name: string) => {
  const k = inf.get(name, ns)?.data?.k;
  return k === undefined ? undefined : Buffer.from(k, 'base64').toString();
};

describe('resilient informer', () => {
  it('lists existing objects, then sees add, update and delete', async () => {
    const before = uniqueName('pre');
    await put(before, 'v0');
    const { informer, seen } = track(kube);
    await informer.start();
    expect(informer.hasSynced()).toBe(true);
    expect(valueOf(informer, before)).toBe('v0');
    expect(seen).toContain(`add ${before}`);

    const name = uniqueName('live');
    await put(name, 'v1');
    await waitUntil('add', () => seen.includes(`add ${name}`));
    await put(name, 'v2');
    await waitUntil('update', () => seen.includes(`update ${name} v1->v2`));
    await kube.delete(CoreResources.secret, name, ns);
    await waitUntil('delete', () => seen.includes(`delete ${name}`));
    expect(informer.get(name, ns)).toBeUndefined();
  });

  it('honours the label selector, including objects that stop matching', async () => {
    const label = uniqueName('sel');
    const { informer, seen } = track(kube, { labelSelector: `lockstep.dev/managed=${label}` });
    await informer.start();
    const inside = uniqueName('in');
    const outside = uniqueName('out');
    await put(outside, 'x', { 'lockstep.dev/managed': 'other' });
    await put(inside, 'x', { 'lockstep.dev/managed': label });
    await waitUntil('matching add', () => seen.includes(`add ${inside}`));
    await put(inside, 'x', { 'lockstep.dev/managed': 'no-longer' });
    await waitUntil('delete when the label no longer matches', () => seen.includes(`delete ${inside}`));
    expect(seen.some((s) => s.includes(outside))).toBe(false);
    expect(informer.list()).toEqual([]);
  });

  it('can cache metadata only', async () => {
    const name = uniqueName('meta');
    await put(name, 'secret-value');
    const { informer } = track(kube, { metadataOnly: true });
    await informer.start();
    const cached = informer.get(name, ns);
    expect(cached?.metadata.labels).toEqual({ app: 'lockstep' });
    expect(cached?.data).toBeUndefined();
    expect(cached?.kind).toBe('PartialObjectMetadata');
  });

  describe('through a TCP proxy', () => {
    let proxy: TcpProxy;
    let dir: string;
    let viaProxy: KubeClientHandle;
    let requests: string[];

    beforeEach(async () => {
      proxy = await startTcpProxy(await serverPort(cluster.kubeconfigPath));
      dir = await mkdtemp(join(tmpdir(), 'lockstep-kube-proxy-'));
      const config = await kubeconfigVia(cluster.kubeconfigPath, proxy.port, join(dir, 'kubeconfig'));
      ({ kube: viaProxy, requests } = countingClient(config, { requestTimeoutMs: 5_000 }));
    });
    afterEach(async () => {
      for (const inf of informers.splice(0)) inf.stop();
      await viaProxy.close();
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    });

    const warnings = (lines: LogLine[]) => lines.filter((l) => l.level === 'warn');

    it('gives each watch its own connection (HTTP/1.1, so one dead connection stalls one watch)', async () => {
      const a = track(viaProxy);
      const b = track(viaProxy, { labelSelector: 'other=yes' });
      await Promise.all([a.informer.start(), b.informer.start()]);
      await waitUntil('two watches', () => requests.filter((r) => r === 'watch secrets 200').length === 2);
      expect(proxy.accepted).toBeGreaterThanOrEqual(2);
    });

    it('recovers after the watch connection is cut, without missing changes made meanwhile', async () => {
      const name = uniqueName('cut');
      await put(name, 'v1');
      const { informer, seen, lines } = track(viaProxy, { backoff: { baseMs: 200, maxMs: 1_000 } });
      await informer.start();
      await waitUntil('watch open', () => requests.some((r) => r.startsWith('watch secrets 200')));

      proxy.cutAll();
      await put(name, 'v2'); // happens while the watch is down
      const later = uniqueName('after-cut');
      await put(later, 'v1');
      await waitUntil('change made during the cut', () => valueOf(informer, name) === 'v2', 20_000);
      await waitUntil('object created after the cut', () => seen.includes(`add ${later}`), 20_000);
      expect(warnings(lines).length).toBeGreaterThanOrEqual(1);
      expect(requests.filter((r) => r.startsWith('watch secrets')).length).toBeGreaterThanOrEqual(2);
      expect(informer.hasSynced()).toBe(true);
    });

    it('restarts a watch whose connection went silent (idle timeout), and the watchdog relists', async () => {
      const name = uniqueName('frozen');
      await put(name, 'v1');
      const { informer, lines } = track(viaProxy, { idleTimeoutMs: 2_000, watchdogMs: 60_000 });
      await informer.start();
      await waitUntil('watch open', () => requests.some((r) => r.startsWith('watch secrets 200')));

      proxy.freezeAll(); // bytes stop flowing; no FIN, no RST
      await put(name, 'v2');
      await waitUntil('change seen through a new watch', () => valueOf(informer, name) === 'v2', 30_000);
      expect(lines.some((l) => l.msg.includes('idle'))).toBe(true);

      const silent = track(viaProxy, { idleTimeoutMs: 60_000, watchdogMs: 1_500 });
      await silent.informer.start();
      const lists = () => requests.filter((r) => r.startsWith('list secrets')).length;
      const listed = lists();
      await waitUntil('watchdog relist of a quiet watch', () => lists() > listed, 10_000);
      expect(silent.lines.some((l) => l.msg.includes('silent'))).toBe(true);
    });
  });
});
