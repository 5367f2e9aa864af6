// `make bench-provider PROVIDER=aws|vault`: what a real provider sees when many ExternalSecrets share
// few remote keys. On a real local control plane, with moto (AWS, IAM enforced, static keys) or an
// OpenBao dev server (AppRole login), behind a counting proxy so the HTTP calls the operator really
// makes are counted next to its own lockstep_provider_requests_total.
//
//   tsx bench/provider-bench.ts --provider aws [--n 1000] [--keys 100] [--namespaces 5]
//       [--refresh-interval 20s] [--rounds 2] [--workers 10]
//
// Layout: ONE ClusterSecretStore; `keys` distinct remote keys (bench/key-000 …); n ExternalSecrets
// in `namespaces` namespaces (n/namespaces consecutive ones per namespace), ExternalSecret i reads the
// whole value of key i % keys. So each key is read by n/keys ExternalSecrets, spread over every
// namespace, all through the same store (one client, one shared-read cache).
//
// Phases: fixtures → operator started → time until all Ready (first full sync) → `rounds` full
// refresh cycles, each ending when the store's status.refresh.time moved once more (a complete
// round: every ExternalSecret read; an unchanged refresh writes nothing to the ExternalSecrets).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { startControlPlane } from '../e2e/harness/control-plane.js';
import { prepareCluster } from '../e2e/support/operator.js';
import { createIgnoringConflict, GROUP_PATH, SET_LABEL } from './lib/fixtures.js';
import { KubeHttp, loadAccess, runPool } from './lib/kube-http.js';
import { OperatorProcess, parseMetrics, ROOT, type Metrics } from './lib/operator-process.js';
import { machineLoad, round } from './lib/proc.js';
import { ReadyWatcher } from './lib/ready-watcher.js';
import { StoreRoundWatcher } from './lib/store-rounds.js';
import { CountingProxy, diffCounts, sumCounts } from './lib2/counting-proxy.js';
import { startProviderPeer, type ProviderPeer } from './lib2/provider-peers.js';
import { Cleanup, counterDiff, gitDescribe, logFailure, logger, printTables, seconds, sleep, target, writeResults, type Target } from './lib2/util.js';

const OPERATOR_NS = 'lockstep-system';
const SET = 'provider';
const STORE = 'bench-provider';
const READ_OPS = new Set(['getSecret', 'getSecretMap', 'findSecrets']);
const log = logger('provider-bench');

interface Options {
  provider: 'aws' | 'vault';
  n: number;
  keys: number;
  namespaces: number;
  refreshInterval: string;
  rounds: number;
  workers: number;
  keep: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      provider: { type: 'string', default: process.env.PROVIDER ?? 'aws' },
      n: { type: 'string', default: '1000' },
      keys: { type: 'string', default: '100' },
      namespaces: { type: 'string', default: '5' },
      'refresh-interval': { type: 'string', default: '20s' },
      rounds: { type: 'string', default: '2' },
      workers: { type: 'string', default: '10' },
      keep: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer`);
    return x;
  };
  if (values.provider !== 'aws' && values.provider !== 'vault') throw new Error('--provider (or PROVIDER) must be aws or vault');
  if (!/^\d+s$/.test(values['refresh-interval'])) throw new Error('--refresh-interval must look like 20s');
  return {
    provider: values.provider, n: int('n', values.n), keys: int('keys', values.keys), namespaces: int('namespaces', values.namespaces),
    refreshInterval: values['refresh-interval'], rounds: int('rounds', values.rounds), workers: int('workers', values.workers), keep: values.keep,
  };
}

export const keyName = (k: number) => `bench/key-${String(k).padStart(3, '0')}`;


interface Snapshot {
  at: number;
  metrics: Metrics;
  http: Record<string, number>;
  motoPosts: number;
}

/** Lines of moto's request log that are API calls (werkzeug logs `"POST / HTTP/1.1" 200`). */
async function motoPosts(peer: ProviderPeer): Promise<number> {
  if (peer.kind !== 'aws') return Number.NaN;
  const text = await readFile(peer.logFile, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => /"POST \/ HTTP\/1\.1"/.test(l)).length;
}

interface Phase {
  seconds: number;
  providerRequests: Record<string, number>;
  providerReads: number;
  httpCalls: Record<string, number>;
  httpTotal: number;
  /** AWS: GetSecretValue + BatchGetSecretValue; Vault: KV reads. */
  httpReads: number;
  logins: number;
  motoLogPosts?: number;
  /** From the read calls' bodies/paths: keys per call, distinct keys, reads of the most-read key. */
  keysPerCall: { mean: number; max: number };
  distinctKeysRead: number;
  maxReadsOfOneKey: number;
  /** Per key: seconds from its first to its last read call in the phase (mean over keys), and the shortest gap between two reads of one key. */
  readSpanPerKeySeconds: number;
  minGapBetweenReadsOfOneKeySeconds?: number;
  kubeRequests: Record<string, number>;
}

function phase(peer: ProviderPeer, a: Snapshot, b: Snapshot): Phase {
  const providerRequests = counterDiff(a.metrics, b.metrics, 'lockstep_provider_requests_total', ['operation', 'outcome']);
  const httpCalls = diffCounts(a.http, b.http);
  const calls = peer.reads.filter((r) => r.at > a.at && r.at <= b.at);
  const perKey = new Map<string, number>();
  for (const c of calls) for (const k of c.keys) perKey.set(k, (perKey.get(k) ?? 0) + 1);
  const sizes = calls.map((c) => c.keys.length);
  const times = new Map<string, number[]>();
  for (const c of calls) for (const k of c.keys) times.set(k, [...(times.get(k) ?? []), c.at]);
  const spans = [...times.values()].map((ts) => (ts.at(-1) ?? 0) - (ts[0] ?? 0));
  const gaps = [...times.values()].flatMap((ts) => ts.slice(1).map((x, i) => x - (ts[i] ?? x)));
  return {
    readSpanPerKeySeconds: spans.length ? seconds(spans.reduce((x, y) => x + y, 0) / spans.length) : 0,
    ...(gaps.length ? { minGapBetweenReadsOfOneKeySeconds: seconds(Math.min(...gaps)) } : {}),
    keysPerCall: { mean: sizes.length ? round(sizes.reduce((x, y) => x + y, 0) / sizes.length, 2) : 0, max: Math.max(0, ...sizes) },
    distinctKeysRead: perKey.size,
    maxReadsOfOneKey: Math.max(0, ...perKey.values()),
    seconds: seconds(b.at - a.at),
    providerRequests,
    providerReads: sumCounts(providerRequests, (k) => READ_OPS.has(k.split(' ')[0] ?? '')),
    httpCalls,
    httpTotal: sumCounts(httpCalls),
    httpReads: sumCounts(httpCalls, peer.isRead),
    logins: sumCounts(httpCalls, peer.isLogin),
    ...(peer.kind === 'aws' ? { motoLogPosts: b.motoPosts - a.motoPosts } : {}),
    kubeRequests: counterDiff(a.metrics, b.metrics, 'lockstep_kube_requests_total', ['verb', 'resource']),
  };
}

async function main(): Promise<number> {
  const opts = parseOptions();
  const cleanup = new Cleanup(log);
  const startedAt = new Date().toISOString();
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-provider-bench-'));
  cleanup.add('temp dir', async () => { if (opts.keep) log(`kept ${dir}`); else await rm(dir, { recursive: true, force: true }); });
  const perKey = opts.n / opts.keys;
  const load0 = machineLoad();
  try {
    if (!existsSync(join(ROOT, 'dist/cmd/main.js'))) throw new Error('dist/cmd/main.js is missing: run `make build`');
    log(`provider=${opts.provider} n=${opts.n} keys=${opts.keys} (${perKey} ExternalSecrets per key) namespaces=${opts.namespaces} interval=${opts.refreshInterval} (load ${load0.loadavg1} on ${load0.cpus} CPUs)`);
    const cp = await startControlPlane({ dir: join(dir, 'cluster'), controllerManager: false });
    cleanup.add('control plane', () => cp.stop());
    await prepareCluster(cp.kubeconfigPath, OPERATOR_NS);
    const access = loadAccess(cp.kubeconfigPath);
    const http = new KubeHttp(access, 32);
    cleanup.add('kube http', () => http.close());

    const peer = await startProviderPeer(opts.provider, opts.keys, keyName, log);
    cleanup.add(`${opts.provider} peer`, () => peer.stop());
    const proxy = await CountingProxy.start(peer.endpoint, peer.classify, peer.observe);
    cleanup.add('proxy', () => proxy.stop());
    log(`${opts.provider} peer at ${peer.endpoint} (pid ${peer.pid()}), counting proxy at ${proxy.endpoint}`);

    // ---- fixtures: credentials Secret, one ClusterSecretStore, namespaces, ExternalSecrets ----
    await createIgnoringConflict(http, `/api/v1/namespaces/${OPERATOR_NS}/secrets`, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bench-provider-credentials', namespace: OPERATOR_NS }, stringData: peer.credentials,
    });
    await createIgnoringConflict(http, `${GROUP_PATH}/clustersecretstores`, {
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'ClusterSecretStore', metadata: { name: STORE },
      spec: { provider: peer.storeProvider(proxy.endpoint, OPERATOR_NS, 'bench-provider-credentials') },
    });
    const namespaces = Array.from({ length: opts.namespaces }, (_, i) => `pbench-${i}`);
    await runPool(namespaces, 8, (ns) => createIgnoringConflict(http, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
    const perNs = Math.ceil(opts.n / opts.namespaces);
    const refs = Array.from({ length: opts.n }, (_, i) => ({ ns: namespaces[Math.floor(i / perNs)] as string, name: `es-${String(i).padStart(5, '0')}`, key: i % opts.keys }));
    const t = Date.now();
    await runPool(refs, 32, (r) => createIgnoringConflict(http, `${GROUP_PATH}/namespaces/${r.ns}/externalsecrets`, {
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret',
      metadata: { name: r.name, namespace: r.ns, labels: { [SET_LABEL]: SET } },
      spec: {
        secretStoreRef: { kind: 'ClusterSecretStore', name: STORE },
        refreshInterval: opts.refreshInterval,
        data: [{ secretKey: 'value', remoteRef: { key: keyName(r.key) } }],
      },
    }));
    log(`created ${opts.n} ExternalSecrets in ${seconds(Date.now() - t)}s`);

    const watcher = new ReadyWatcher(http, access, `${SET_LABEL}=${SET}`);
    cleanup.add('watcher', () => watcher.stop());
    await watcher.start();
    const storeRounds = new StoreRoundWatcher(http, `${GROUP_PATH}/clustersecretstores`, (st) => st.metadata.name === STORE);
    cleanup.add('store rounds', () => storeRounds.stop());
    await storeRounds.start();

    // ---- first full sync ----
    const start: Snapshot = { at: 0, metrics: parseMetrics(''), http: proxy.snapshot(), motoPosts: await motoPosts(peer) };
    const op = await OperatorProcess.start({
      kubeconfigPath: cp.kubeconfigPath, operatorNamespace: OPERATOR_NS, workers: opts.workers,
      logFile: join(dir, 'operator.log'), from: 'dist', cwd: dir,
    });
    cleanup.add('operator', () => op.stop());
    log(`operator started (pid ${op.pid})`);
    const snap = async (at?: number): Promise<Snapshot> => ({
      at: at ?? Date.now(), metrics: await op.metrics(), http: proxy.snapshot(), motoPosts: await motoPosts(peer),
    });
    start.at = op.startedAt;
    await op.waitReady(120_000);
    const readyAt = await waitOrStall(op, watcher, opts.n);
    const synced = await snap(readyAt);
    await storeRounds.mark();
    log(`all ${opts.n} Ready after ${seconds(readyAt - op.startedAt)}s; provider reads ${phase(peer, start, synced).providerReads}`);

    // ---- full refresh cycles ----
    const rounds: Phase[] = [];
    let prev = synced;
    const intervalMs = Number(opts.refreshInterval.slice(0, -1)) * 1000;
    for (let r = 1; r <= opts.rounds; r++) {
      const deadline = Date.now() + intervalMs * 3 + 60_000;
      let at: number | undefined;
      while (at === undefined) {
        if (!op.running) throw new Error('the operator exited');
        if (Date.now() > deadline) throw new Error(`timed out in refresh round ${r}: ${storeRounds.membersOf(r)}/${opts.n}`);
        if (storeRounds.refreshedCount(r) >= 1) at = Date.now();
        else await sleep(100);
      }
      const s = await snap(at);
      rounds.push(phase(peer, prev, s));
      log(`refresh round ${r}: ${seconds(s.at - prev.at)}s, provider reads ${rounds.at(-1)?.providerReads}, HTTP ${JSON.stringify(rounds.at(-1)?.httpCalls)}`);
      prev = s;
    }
    const first = phase(peer, start, synced);
    await op.stop();

    // ---- report ----
    const worst = (f: (p: Phase) => number) => Math.max(...rounds.map(f));
    const targets: Target[] = [
      target('provider reads per full refresh (max over rounds)', worst((p) => p.providerReads), '<=', opts.keys),
    ];
    if (opts.provider === 'aws') targets.push(target('AWS HTTP read calls per full refresh (max)', worst((p) => p.httpReads), '<=', Math.floor(opts.keys / 10)));
    targets.push(target('logins per refresh after the first sync (max)', worst((p) => p.logins), '==', 0));
    const figures: string[][] = [
      ['layout', `${opts.n} ES / ${opts.keys} keys`, `1 ClusterSecretStore (${opts.provider}), ${perKey} ES per key, ${opts.namespaces} namespaces, refreshInterval ${opts.refreshInterval}, ${opts.workers} workers`],
      ['time to all Ready', `${seconds(readyAt - op.startedAt)} s`, 'from operator process start'],
      ['first sync: provider requests', String(sumCounts(first.providerRequests)), fmt(first.providerRequests)],
      ['first sync: HTTP calls to provider', String(first.httpTotal), fmt(first.httpCalls)],
      ['first sync: keys in read calls', String(first.distinctKeysRead), `distinct; keys per call mean ${first.keysPerCall.mean}, max ${first.keysPerCall.max}; most-read key read ${first.maxReadsOfOneKey}×`],
      ['first sync: logins', String(first.logins), ''],
    ];
    rounds.forEach((p, i) => figures.push(
      [`refresh ${i + 1}: duration`, `${p.seconds} s`, 'until the store recorded one more complete round'],
      [`refresh ${i + 1}: provider reads`, String(p.providerReads), `${round(p.providerReads / opts.keys, 2)} per key; ${fmt(p.providerRequests)}`],
      [`refresh ${i + 1}: HTTP calls`, String(p.httpTotal), `${fmt(p.httpCalls)}${p.motoLogPosts !== undefined ? `; moto log POSTs ${p.motoLogPosts}` : ''}`],
      [`refresh ${i + 1}: keys in read calls`, String(p.distinctKeysRead), `distinct; keys per call mean ${p.keysPerCall.mean}, max ${p.keysPerCall.max}; most-read key read ${p.maxReadsOfOneKey}×; reads of one key span ${p.readSpanPerKeySeconds} s on average, min gap ${p.minGapBetweenReadsOfOneKeySeconds ?? '-'} s`],
      [`refresh ${i + 1}: logins`, String(p.logins), ''],
    ));
    printTables(`Lockstep provider benchmark (${opts.provider})`, figures, targets);
    await writeResults(`provider-bench-${opts.provider}`, startedAt, {
      config: { ...opts, perKey, store: `ClusterSecretStore/${STORE}`, commit: gitDescribe(), startedAt },
      machine: { ...load0, loadavg1AtEnd: machineLoad().loadavg1, node: process.version },
      timeToAllReadySeconds: seconds(readyAt - op.startedAt),
      firstSync: first, refreshRounds: rounds, targets,
    }, log);
    return 0;
  } catch (err) {
    logFailure(log, err, dir);
    return 1;
  } finally {
    await cleanup.run();
  }
}

function fmt(c: Record<string, number>): string {
  return Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ');
}

/** All Ready, or a failure when the operator exits or nothing progresses for 60 s. */
async function waitOrStall(op: OperatorProcess, watcher: ReadyWatcher, n: number): Promise<number> {
  let at: number | undefined;
  void watcher.waitFor(n).then((x) => (at = x));
  let last = -1;
  let lastChange = Date.now();
  while (at === undefined) {
    if (!op.running) throw new Error('the operator exited');
    if (watcher.count !== last) { last = watcher.count; lastChange = Date.now(); }
    if (Date.now() - lastChange > 60_000) throw new Error(`no progress for 60s (${watcher.count}/${n} Ready)`);
    await sleep(100);
  }
  return at;
}

process.exitCode = await main();
