// `make bench`: how fast the operator syncs N ExternalSecrets on a real local control plane,
// compared with a floor measured in the same run (a minimal client doing only the unavoidable
// writes), plus its API requests, peak memory and the writes of an unchanged refresh.
//
//   tsx bench/sync-bench.ts --n 1000 [--namespaces 10] [--workers 10] [--refresh-interval 30s]
//
// Order in one run: control plane → operator set created → operator started and timed until all
// are Ready → unchanged refresh (store edit, then a periodic round) → restart (a new operator
// process over the synced set) → operator stopped → floor set created → floor timed. The floor runs
// after the operator, with the operator stopped. `--check` exits 1 when a request or write target
// is missed (the CI guard, e2e/scale); time and memory are reported, never checked.
import { mkdtemp, mkdir, rename, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from '../e2e/harness/control-plane.js';
import { prepareCluster } from '../e2e/support/operator.js';
import { createFixtures, GROUP_PATH, namespacesOf, planExternalSecrets, SET_LABEL, STORE_NAME, storeData, type ValueMode } from './lib/fixtures.js';
import { runFloor } from './lib/floor.js';
import { ContentTypes, KubeHttp, loadAccess, runPool } from './lib/kube-http.js';
import { chartMemoryLimit, parseQuantity } from './lib/memory-cgroup.js';
import { bundleOperator, diffGroups, IMAGE_ENV, IMAGE_NODE_FLAGS, OperatorProcess, operatorNodeVersion, ROOT, type Metrics } from './lib/operator-process.js';
import { diffCpu, machineLoad, round, snapshotCpu, type CpuSnapshot } from './lib/proc.js';
import { ReadyWatcher } from './lib/ready-watcher.js';
import { checkedTargets, printReport, type RequestSummary, type Results } from './lib/report.js';
import { formatSmaps, readSmaps } from './lib/smaps.js';
import { StoreRoundWatcher } from './lib/store-rounds.js';

const OPERATOR_NS = 'lockstep-system';
const WRITE_VERBS = new Set(['create', 'apply', 'patch', 'update', 'delete']);
const PROVIDER_READS = new Set(['getSecret', 'getSecretMap', 'findSecrets']);
/** The sync phase fails when no ExternalSecret became Ready for this long. */
const STALL_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => round(ms / 1000, 2);
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Options {
  n: number;
  namespaces: number;
  workers: number;
  refreshInterval: string;
  createConcurrency: number;
  operator: 'dist' | 'bundle' | 'src';
  floor: boolean;
  refresh: boolean;
  keep: boolean;
  nodeArgs: string[];
  /** NAME=value pairs for the operator's environment, over the image's (scripts/operator-env). */
  operatorEnv: Record<string, string>;
  /** The operator's memory cgroup limit in bytes (default: the chart's), 0 for none. */
  memoryLimitBytes: number;
  memoryLimit: string;
  heapSnapshot: boolean;
  /** Whether each ExternalSecret reads values of its own (see fixtures.ts). */
  values: ValueMode;
  heapSnapshotAt: number | undefined;
  heapSnapshotEnd: boolean;
  ref: string | undefined;
  restart: boolean;
  soakRounds: number;
  check: boolean;
  out: string | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000' },
      namespaces: { type: 'string', default: '10' },
      workers: { type: 'string', default: '10' },
      'refresh-interval': { type: 'string', default: '30s' },
      values: { type: 'string', default: 'distinct' },
      'create-concurrency': { type: 'string', default: '32' },
      operator: { type: 'string', default: 'dist' },
      'no-floor': { type: 'boolean', default: false },
      'no-refresh': { type: 'boolean', default: false },
      'no-restart': { type: 'boolean', default: false },
      'soak-rounds': { type: 'string', default: '0' },
      check: { type: 'boolean', default: false },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'node-arg': { type: 'string', multiple: true, default: [] },
      'operator-env': { type: 'string', multiple: true, default: [] },
      'memory-limit': { type: 'string' },
      'heap-snapshot': { type: 'boolean', default: false },
      'heap-snapshot-at': { type: 'string' },
      'heap-snapshot-end': { type: 'boolean', default: false },
      ref: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: tsx bench/sync-bench.ts [--n 1000] [--namespaces 10] [--workers 10] [--refresh-interval 30s] [--values distinct|shared]\n' +
      '  [--create-concurrency 32] [--operator dist|bundle|src] [--ref COMMIT] [--node-arg=--max-old-space-size=96 ...] [--operator-env=NAME=value ...] [--memory-limit 256Mi|none] [--heap-snapshot [--heap-snapshot-at READY] | --heap-snapshot-end]\n' +
      '  [--no-floor] [--no-refresh] [--no-restart] [--soak-rounds 10] [--check] [--out FILE] [--keep]\n');
    process.exit(0);
  }
  const int = (name: string, v: string) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer`);
    return x;
  };
  if (!/^\d+(s|m)$/.test(values['refresh-interval'])) throw new Error('--refresh-interval must look like 30s or 1m');
  if (values.operator !== 'dist' && values.operator !== 'bundle' && values.operator !== 'src') throw new Error('--operator must be dist, bundle or src');
  if (values.values !== 'distinct' && values.values !== 'shared') throw new Error('--values must be distinct or shared');
  if (values.ref !== undefined && values.operator === 'src') throw new Error('--ref builds a commit; it cannot be combined with --operator src');
  const memoryLimit = values['memory-limit'] ?? chartMemoryLimit();
  const snapshot = values['heap-snapshot'] || values['heap-snapshot-at'] !== undefined || values['heap-snapshot-end'];
  return {
    n: int('n', values.n),
    namespaces: int('namespaces', values.namespaces),
    workers: int('workers', values.workers),
    refreshInterval: values['refresh-interval'],
    values: values.values as ValueMode,
    createConcurrency: int('create-concurrency', values['create-concurrency']),
    operator: values.operator,
    floor: !values['no-floor'],
    refresh: !values['no-refresh'],
    restart: !values['no-restart'],
    soakRounds: Number(values['soak-rounds']),
    check: values.check,
    out: values.out,
    keep: values.keep,
    nodeArgs: [...values['node-arg'], ...(snapshot ? ['--heapsnapshot-signal=SIGUSR2'] : [])],
    operatorEnv: Object.fromEntries(values['operator-env'].map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error('--operator-env takes NAME=value');
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    })),
    memoryLimit,
    memoryLimitBytes: memoryLimit === 'none' ? 0 : parseQuantity(memoryLimit),
    heapSnapshot: values['heap-snapshot'] || values['heap-snapshot-at'] !== undefined,
    heapSnapshotEnd: values['heap-snapshot-end'],
    ref: values.ref,
    heapSnapshotAt: values['heap-snapshot-at'] !== undefined ? int('heap-snapshot-at', values['heap-snapshot-at']) : undefined,
  };
}

/** The commit measured, `-dirty` when the working tree has changes (the operator runs what is built). */
function gitDescribe(ref?: string): string {
  try {
    const args = ref === undefined ? ['describe', '--always', '--dirty'] : ['rev-parse', '--short', ref];
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Builds `ref` (a commit) into dir/build with the repository's node_modules and returns its main.js:
 * measures exactly that commit, whatever the working tree holds.
 */
function buildRef(ref: string, dir: string): string {
  const out = join(dir, 'build');
  mkdirSync(out, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', ref, 'src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'],
    { cwd: ROOT, maxBuffer: 512 * 2 ** 20 });
  execFileSync('tar', ['-x', '-C', out], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: out, stdio: 'pipe' });
  } catch (err) {
    const output = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`building ${ref} failed:\n${output.split('\n').slice(0, 20).join('\n')}`);
  }
  return join(out, 'dist/cmd/main.js');
}

function intervalMs(text: string): number {
  return Number(text.slice(0, -1)) * (text.endsWith('m') ? 60_000 : 1000);
}

/** Warns when dist/ is older than src/ (make bench builds first; a direct tsx run may not). */
async function checkDist(opts: Options): Promise<void> {
  if (opts.operator === 'src' || opts.ref !== undefined) return;
  const main = join(ROOT, 'dist/cmd/main.js');
  const built = await stat(main).catch(() => undefined);
  if (!built) throw new Error('dist/cmd/main.js is missing: run `make build` (or use --operator src)');
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  if (newest > built.mtimeMs) log('WARNING: src/ is newer than dist/; run `make build` so the benchmark measures the current code');
}

/** Requests by "verb resource" (code ignored) from lockstep_kube_requests_total. */
function requestsOf(m: Metrics): Record<string, number> {
  return m.groupBy('lockstep_kube_requests_total', ['verb', 'resource']);
}

/** CPU seconds of the processes a phase consists of (control plane, operator, bench), not of others. */
function ourCpu(cpu: CpuSnapshot): number {
  return ['apiserver', 'etcd', 'kcm', 'bench', 'operator'].reduce((sum, k) => sum + (Number.isFinite(cpu[k]) ? (cpu[k] ?? 0) : 0), 0);
}

/** V8 heap and external memory as the operator's own metrics report them, in MB. */
function nodeMemory(m: Metrics): Record<string, number> {
  const out: Record<string, number> = {
    heapTotal: mb(m.sum('lockstep_nodejs_heap_size_total_bytes')),
    heapUsed: mb(m.sum('lockstep_nodejs_heap_size_used_bytes')),
    external: mb(m.sum('lockstep_nodejs_external_memory_bytes')),
  };
  for (const [space, bytes] of Object.entries(m.groupBy('lockstep_nodejs_heap_space_size_used_bytes', ['space']))) {
    out[`space ${space}`] = mb(bytes);
  }
  return out;
}

function providerReads(m: Metrics): number {
  return m.sum('lockstep_provider_requests_total', { operation: (op) => PROVIDER_READS.has(op) });
}

function summarizeRequests(byVerbResource: Record<string, number>): RequestSummary {
  const s: RequestSummary = {
    total: 0, writes: 0, secretWrites: 0, statusWrites: 0, storeStatusWrites: 0, otherWrites: 0, gets: 0, lists: 0, watches: 0, byVerbResource,
  };
  for (const [key, count] of Object.entries(byVerbResource)) {
    const [verb = '', resource = ''] = key.split(' ');
    s.total += count;
    if (WRITE_VERBS.has(verb)) {
      s.writes += count;
      if (resource === 'secrets') s.secretWrites += count;
      else if (resource === 'externalsecrets.lockstep.dev/status') s.statusWrites += count;
      else if (resource === 'secretstores.lockstep.dev/status' || resource === 'clustersecretstores.lockstep.dev/status') {
        s.storeStatusWrites += count;
        s.otherWrites += count;
      } else s.otherWrites += count;
    } else if (verb === 'get') s.gets += count;
    else if (verb === 'list') s.lists += count;
    else if (verb === 'watch') s.watches += count;
  }
  return s;
}

/**
 * Waits until every store completed `rounds` refresh rounds since the mark (its status.refresh.time
 * moved: every ExternalSecret of the store was read), then returns that moment and the operator's
 * metrics. An unchanged refresh writes nothing to the ExternalSecrets, so the stores are where it shows.
 */
async function waitForRounds(
  op: OperatorProcess, stores: StoreRoundWatcher, count: number, rounds: number, timeoutMs: number,
): Promise<{ at: number; metrics: Metrics }> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  while (stores.refreshedCount(rounds) < count) {
    if (!op.running) throw new Error('the operator exited during the refresh phase');
    if (Date.now() > deadline) throw new Error(`timed out waiting for refresh round ${rounds} (${stores.refreshedCount(rounds)}/${count} stores)`);
    if (Date.now() - lastLog > 10_000) { log(`  refresh round ${rounds}: ${stores.refreshedCount(rounds)}/${count} stores`); lastLog = Date.now(); }
    await sleep(100);
  }
  return { at: Date.now(), metrics: await op.metrics() };
}

interface MemorySample {
  /** Seconds since the operator started. */
  t: number;
  ready: number;
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
}

async function sampleMemory(op: OperatorProcess, ready: number): Promise<MemorySample | undefined> {
  try {
    const m = await op.metrics();
    return {
      t: seconds(Date.now() - op.startedAt), ready, rssMB: mb(op.memory().rss),
      heapUsedMB: mb(m.sum('lockstep_nodejs_heap_size_used_bytes')), heapTotalMB: mb(m.sum('lockstep_nodejs_heap_size_total_bytes')),
    };
  } catch {
    return undefined; // not serving yet, or exited
  }
}

/** Asks the operator for a heap snapshot (SIGUSR2) and moves it to bench/results/. */
async function takeHeapSnapshot(op: OperatorProcess, dir: string, n: number): Promise<void> {
  const before = new Set(readdirSync(dir));
  process.kill(op.pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    await sleep(1000);
    // node creates the file before it writes the snapshot: empty means not yet written
    if (size === 0 || statSync(join(dir, file)).size !== size) continue;
    const out = join(ROOT, 'bench/results', `operator-n${n}-${Date.now()}.heapsnapshot`);
    await mkdir(join(ROOT, 'bench/results'), { recursive: true });
    await rename(join(dir, file), out);
    log(`heap snapshot: ${relative(process.cwd(), out)}`);
    return;
  }
  log('heap snapshot: none appeared');
}

async function main(): Promise<number> {
  const opts = parseOptions();
  await checkDist(opts);
  const cleanups: (() => Promise<void> | void)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try { await fn(); } catch (err) { log(`cleanup: ${(err as Error).message}`); }
    }
  })());
  const onSignal = (sig: string) => {
    log(`${sig}: stopping everything the benchmark started`);
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const dir = await mkdtemp(join(tmpdir(), 'lockstep-bench-'));
  cleanups.push(async () => {
    if (opts.keep) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  });
  const loadAtStart = machineLoad();
  const results: Partial<Results> & { config: Results['config'] } = {
    config: {
      n: opts.n, namespaces: opts.namespaces, workers: opts.workers, refreshInterval: opts.refreshInterval, values: opts.values,
      operator: opts.operator, nodeArgs: [...IMAGE_NODE_FLAGS, ...opts.nodeArgs], env: { ...IMAGE_ENV, ...opts.operatorEnv }, memoryLimit: opts.memoryLimit, floorOrder: 'after the operator, with the operator stopped',
      startedAt: new Date().toISOString(),
      commit: gitDescribe(opts.ref),
    },
  };
  try {
    let entry: string | undefined;
    if (opts.ref !== undefined) {
      log(`building ${opts.ref} (${results.config.commit})`);
      entry = buildRef(opts.ref, dir);
    }
    if (opts.operator === 'bundle') {
      // As the image runs it: dist/ (or the built commit) bundled by `scripts/image.sh --app`.
      entry = bundleOperator(join(dir, 'app'), entry === undefined ? join(ROOT, 'dist') : dirname(dirname(entry)));
    }
    log(`N=${opts.n} namespaces=${opts.namespaces} workers=${opts.workers} (load ${loadAtStart.loadavg1} on ${loadAtStart.cpus} CPUs)`);
    const cp: ControlPlane = await startControlPlane({ dir: join(dir, 'cluster') });
    cleanups.push(() => cp.stop());
    const cpPids = () => ({ apiserver: cp.pids['kube-apiserver'], etcd: cp.pids.etcd, kcm: cp.pids['kube-controller-manager'] });
    await prepareCluster(cp.kubeconfigPath, OPERATOR_NS);
    const access = loadAccess(cp.kubeconfigPath);
    const http = new KubeHttp(access, opts.createConcurrency);
    cleanups.push(() => http.close());

    // ---- operator set: created before the operator starts ----
    const opNamespaces = namespacesOf('op', opts.namespaces);
    const opRefs = planExternalSecrets(opNamespaces, opts.n, opts.values);
    let t = Date.now();
    await createFixtures(http, 'op', opNamespaces, opRefs, opts.createConcurrency);
    const createSeconds = seconds(Date.now() - t);
    log(`created ${opts.n} ExternalSecrets in ${createSeconds}s`);

    const watcher = new ReadyWatcher(http, access, `${SET_LABEL}=op`);
    cleanups.push(() => watcher.stop());
    await watcher.start();
    const stores = new StoreRoundWatcher(http, `${GROUP_PATH}/secretstores`, (st) => opNamespaces.includes(st.metadata.namespace ?? ''));
    cleanups.push(() => stores.stop());
    await stores.start();

    const cpu0 = snapshotCpu(cpPids());
    const op = await OperatorProcess.start({
      kubeconfigPath: cp.kubeconfigPath, operatorNamespace: OPERATOR_NS, workers: opts.workers,
      logFile: join(dir, 'operator.log'), from: opts.operator, entry, nodeArgs: opts.nodeArgs, env: opts.operatorEnv, cwd: dir, memoryLimitBytes: opts.memoryLimitBytes,
    });
    cleanups.push(() => op.stop());
    const opCpu = (): CpuSnapshot => ({ ...snapshotCpu(cpPids()), operator: snapshotCpu({ x: op.pid })['x'] ?? Number.NaN });
    const cpuOp0: CpuSnapshot = { ...cpu0, operator: 0 };
    log(`operator started (pid ${op.pid})`);
    const timeline: MemorySample[] = [];
    let snapshotTaken = false;
    // VmHWM when each phase ended: the phase in which it last rose holds the overall peak.
    const peakByPhase: Record<string, number> = {};
    // RSS read every 100 ms (cheap: /proc/PID/status): when in each phase the peak came.
    let phaseStart = Date.now();
    let phaseTop = { rss: 0, at: 0 };
    const fastSampler = setInterval(() => {
      try {
        const { rss } = op.memory();
        if (rss > phaseTop.rss) phaseTop = { rss, at: Date.now() - phaseStart };
      } catch { /* exited */ }
    }, 100);
    cleanups.push(() => clearInterval(fastSampler));
    const endPhase = (name: string) => {
      peakByPhase[name] = mb(op.memory().peakRss);
      log(`  ${name}: VmHWM ${peakByPhase[name]} MB; highest RSS sampled in the phase ${mb(phaseTop.rss)} MB, ${seconds(phaseTop.at)} s into it`);
      phaseStart = Date.now();
      phaseTop = { rss: 0, at: 0 };
    };
    let phaseName = 'sync';
    const nextPhase = (name: string) => { endPhase(phaseName); phaseName = name; };
    let samples = 0;
    const sampler = setInterval(() => {
      void sampleMemory(op, watcher.count).then((sample) => {
        if (!sample) return;
        if (++samples % 3 === 0) log(`  ${phaseName}: ready ${sample.ready}/${opts.n}, operator rss ${sample.rssMB} MB, heap used ${sample.heapUsedMB} MB, total ${sample.heapTotalMB} MB`);
        if (phaseName !== 'sync') return;
        timeline.push(sample);
        if (opts.heapSnapshotAt !== undefined && !snapshotTaken && sample.ready >= opts.heapSnapshotAt) {
          snapshotTaken = true;
          void takeHeapSnapshot(op, dir, opts.n);
        }
      });
    }, 2000);
    cleanups.push(() => clearInterval(sampler));
    const informersSyncedAt = await op.waitReady(120_000);
    const allReadyAt = await Promise.race([
      watcher.waitFor(opts.n),
      (async () => {
        // Fails when the operator exits or when no ExternalSecret became Ready for STALL_MS.
        let last = -1;
        let lastChange = Date.now();
        while (op.running) {
          await sleep(500);
          if (watcher.count !== last) { last = watcher.count; lastChange = Date.now(); }
          if (watcher.count >= opts.n) return new Promise<never>(() => undefined);
          if (Date.now() - lastChange > STALL_MS) {
            throw new Error(`no progress for ${STALL_MS / 1000}s (${watcher.count}/${opts.n} Ready); see the operator log below`);
          }
        }
        throw new Error('the operator exited');
      })(),
    ]);
    const memAtReady = op.memory();
    nextPhase('settle');
    const smapsAtReady = readSmaps(op.pid);
    log(`operator: RSS at Ready ${mb(memAtReady.rss)} MB (${formatSmaps(smapsAtReady)})`);
    const cpuAtReady = opCpu();
    const mReady = await op.metrics();
    log(`operator: all ${opts.n} Ready after ${seconds(allReadyAt - op.startedAt)}s; settling 5s`);
    await sleep(5000);
    const mSettled = await op.metrics();
    if (opts.heapSnapshot && opts.heapSnapshotAt === undefined) await takeHeapSnapshot(op, dir, opts.n);
    const syncRequests = summarizeRequests(requestsOf(mSettled));
    const initialReads = providerReads(mSettled);
    results.operator = {
      timeToAllReadySeconds: seconds(allReadyAt - op.startedAt),
      startupSeconds: seconds(informersSyncedAt - op.startedAt),
      syncSeconds: seconds(allReadyAt - informersSyncedAt),
      perSecond: round(opts.n / ((allReadyAt - op.startedAt) / 1000), 1),
      requests: syncRequests,
      requestsAtAllReady: summarizeRequests(requestsOf(mReady)).total,
      providerReads: initialReads,
      syncs: mSettled.groupBy('lockstep_sync_total', ['result']),
      reconciles: mSettled.groupBy('lockstep_reconcile_total', ['controller', 'outcome']),
      peakRssMB: mb(memAtReady.peakRss),
      rssAtReadyMB: mb(memAtReady.rss),
      smapsAtReady,
      heapUsedMB: mb(mSettled.sum('lockstep_nodejs_heap_size_used_bytes')),
      nodeMemoryMB: nodeMemory(mSettled),
      maxHeapUsedMB: Math.max(0, ...timeline.map((x) => x.heapUsedMB)),
      maxHeapTotalMB: Math.max(0, ...timeline.map((x) => x.heapTotalMB)),
      memoryTimeline: timeline,
      cpuSeconds: diffCpu(cpuOp0, cpuAtReady),
    };
    results.setup = { createSeconds, createPerSecond: round(opts.n / createSeconds, 1) };

    // ---- unchanged refresh: store edit (every object re-read at once), then one periodic round ----
    if (opts.refresh) {
      const cpuR0 = opCpu();
      await stores.mark();
      t = Date.now();
      await runPool(opNamespaces, 8, async (ns) => {
        await http.send('PATCH', `${GROUP_PATH}/namespaces/${ns}/secretstores/${STORE_NAME}`,
          { spec: { refreshInterval: opts.refreshInterval } }, ContentTypes.merge);
      });
      log(`refresh: set refreshInterval ${opts.refreshInterval} on the stores; waiting for a store-edit round and a periodic round`);
      const timeout = intervalMs(opts.refreshInterval) * 2 + opts.n * 100 + 60_000;
      nextPhase('store-edit round');
      const r1 = await waitForRounds(op, stores, opts.namespaces, 1, timeout);
      nextPhase('periodic round');
      log(`refresh: store-edit round done after ${seconds(r1.at - t)}s; peak RSS so far ${peakByPhase['store-edit round']} MB`);
      const r2 = await waitForRounds(op, stores, opts.namespaces, 2, timeout);
      nextPhase('after the rounds');
      await sleep(2000);
      const mEnd = await op.metrics();
      const base = requestsOf(mSettled);
      const mid = requestsOf(r1.metrics);
      const end = requestsOf(mEnd);
      const phase = (a: Record<string, number>, b: Record<string, number>, ma: Metrics, mb2: Metrics, ms: number) => {
        const req = summarizeRequests(diffGroups(a, b));
        return {
          seconds: seconds(ms),
          secretWrites: req.secretWrites,
          statusWrites: req.statusWrites,
          storeStatusWrites: req.storeStatusWrites,
          providerReads: providerReads(mb2) - providerReads(ma),
          syncs: diffGroups(ma.groupBy('lockstep_sync_total', ['result']), mb2.groupBy('lockstep_sync_total', ['result'])),
          requests: req,
        };
      };
      results.refresh = {
        interval: opts.refreshInterval,
        storeEditRound: { ...phase(base, mid, mSettled, r1.metrics, r1.at - t), externalSecrets: stores.membersOf(1) },
        periodicRound: { ...phase(mid, end, r1.metrics, mEnd, r2.at - r1.at), externalSecrets: stores.membersOf(2) },
        total: phase(base, end, mSettled, mEnd, r2.at - t),
        cpuSeconds: diffCpu(cpuR0, opCpu()),
      };
      log(`refresh: done; Secret writes ${results.refresh.total.secretWrites}, status writes ${results.refresh.total.statusWrites}, ` +
        `provider reads ${results.refresh.storeEditRound.providerReads} + ${results.refresh.periodicRound.providerReads}; RSS ${mb(op.memory().rss)} MB (${formatSmaps(readSmaps(op.pid))})`);
    }
    // ---- soak: rounds that each change 10 % of the remote values (every value of one store in ten,
    // the stores taken in turn); memory must stay flat ----
    if (opts.soakRounds > 0) {
      const samples: NonNullable<Results['soak']>['rounds'] = [];
      nextPhase('soak');
      for (let r = 1; r <= opts.soakRounds; r++) {
        const before = await op.metrics();
        await stores.mark();
        const t0 = Date.now();
        const edited = opNamespaces.filter((_, i) => i % 10 === (r - 1) % 10);
        const version = Math.ceil(r / 10);
        await runPool(edited, 8, async (ns) => {
          await http.send('PATCH', `${GROUP_PATH}/namespaces/${ns}/secretstores/${STORE_NAME}`,
            { spec: { provider: { fake: { data: storeData(opRefs, ns, version) } } } }, ContentTypes.merge);
        });
        await waitForRounds(op, stores, edited.length, 1, opts.n * 100 + 120_000);
        // Another store's periodic round may complete first: also wait until every ExternalSecret of
        // the edited stores rewrote its Secret, so each round measures the memory of a whole rotation.
        const rotated = opRefs.filter((ref) => edited.includes(ref.namespace)).length;
        const writesDeadline = Date.now() + opts.n * 100 + 120_000;
        const secretWrites = async () => summarizeRequests(diffGroups(requestsOf(before), requestsOf(await op.metrics()))).secretWrites;
        while ((await secretWrites()) < rotated && Date.now() < writesDeadline && op.running) await sleep(250);
        await sleep(1000);
        const m = await op.metrics();
        const req = summarizeRequests(diffGroups(requestsOf(before), requestsOf(m)));
        samples.push({
          round: r, seconds: seconds(Date.now() - t0), rssMB: mb(op.memory().rss), heapUsedMB: mb(m.sum('lockstep_nodejs_heap_size_used_bytes')),
          heapTotalMB: mb(m.sum('lockstep_nodejs_heap_size_total_bytes')), externalMB: mb(m.sum('lockstep_nodejs_external_memory_bytes')),
          secretWrites: req.secretWrites, statusWrites: req.statusWrites, smaps: readSmaps(op.pid),
        });
        log(`soak round ${r}: ${samples.at(-1)?.seconds}s, Secret writes ${req.secretWrites}, RSS ${samples.at(-1)?.rssMB} MB (${formatSmaps(samples.at(-1)?.smaps)})`);
      }
      const second = samples[Math.min(1, samples.length - 1)]?.rssMB ?? 0;
      const last = samples.at(-1)?.rssMB ?? 0;
      results.soak = { rounds: samples, rssGrowthAfterRound2Percent: second > 0 ? round(((last - second) / second) * 100, 1) : 0 };
    }
    clearInterval(sampler);
    endPhase(phaseName);
    clearInterval(fastSampler);
    results.operator.peakRssByPhaseMB = peakByPhase;
    log(`operator: peak RSS (VmHWM) at the end of each phase: ${Object.entries(peakByPhase).map(([k, v]) => `${k} ${v} MB`).join(', ')}`);
    const memEnd = op.memory();
    if (opts.heapSnapshotEnd) await takeHeapSnapshot(op, dir, opts.n);
    results.operator.peakRssOverallMB = mb(memEnd.peakRss);
    if (memEnd.cgroupPeak !== undefined) results.operator.cgroup = { limitMB: mb(opts.memoryLimitBytes), peakMB: mb(memEnd.cgroupPeak), limitHits: memEnd.cgroupLimitHits ?? 0 };
    results.operator.rssAtEndMB = mb(memEnd.rss);
    await op.stop();
    log('operator stopped');

    // ---- restart: a new process over the synced set must write nothing and restart nothing ----
    if (opts.restart) {
      const again = await OperatorProcess.start({
        kubeconfigPath: cp.kubeconfigPath, operatorNamespace: OPERATOR_NS, workers: opts.workers,
        logFile: join(dir, 'operator-restart.log'), from: opts.operator, entry, nodeArgs: opts.nodeArgs, env: opts.operatorEnv, cwd: dir, memoryLimitBytes: opts.memoryLimitBytes,
      });
      cleanups.push(() => again.stop());
      const readyAt = await again.waitReady(120_000);
      // Every ExternalSecret is nominated once at start; wait until each was reconciled, then a little.
      const reconciled = async () => (await again.metrics()).sum('lockstep_reconcile_total', { controller: 'externalsecret' });
      const deadline = Date.now() + 120_000;
      while ((await reconciled()) < opts.n && Date.now() < deadline && again.running) await sleep(250);
      const doneAt = Date.now();
      await sleep(3000);
      const m = await again.metrics();
      const req = summarizeRequests(requestsOf(m));
      results.restart = {
        readySeconds: seconds(readyAt - again.startedAt),
        reconciledSeconds: seconds(doneAt - again.startedAt),
        reconciles: m.sum('lockstep_reconcile_total', { controller: 'externalsecret' }),
        secretWrites: req.secretWrites,
        statusWrites: req.statusWrites,
        storeStatusWrites: req.storeStatusWrites,
        rollouts: m.sum('lockstep_restarts_total'),
        providerReads: providerReads(m),
        requests: req,
        peakRssMB: mb(again.memory().peakRss),
      };
      log(`restart: ready after ${results.restart.readySeconds}s; Secret writes ${req.secretWrites}, status writes ${req.statusWrites}, rollouts ${results.restart.rollouts}`);
      await again.stop();
    }
    watcher.stop();
    stores.stop();

    // ---- floor: a fresh set in other namespaces, the operator stopped ----
    if (opts.floor) {
      const floorNamespaces = namespacesOf('floor', opts.namespaces);
      const floorRefs = planExternalSecrets(floorNamespaces, opts.n, opts.values);
      await createFixtures(http, 'floor', floorNamespaces, floorRefs, opts.createConcurrency);
      const floorWatcher = new ReadyWatcher(http, access, `${SET_LABEL}=floor`);
      cleanups.push(() => floorWatcher.stop());
      await floorWatcher.start();
      const floorHttp = new KubeHttp(access, opts.workers);
      cleanups.push(() => floorHttp.close());
      log(`floor: ${opts.n} × (apply Secret + patch status) at concurrency ${opts.workers}`);
      const cpuF0 = snapshotCpu(cpPids());
      const floor = await runFloor(floorHttp, 'floor', floorRefs, opts.workers);
      const floorReadyAt = await floorWatcher.waitFor(opts.n);
      const cpuF1 = snapshotCpu(cpPids());
      floorWatcher.stop();
      const floorSeconds = seconds(floorReadyAt - floor.startedAt);
      log(`floor: all ${opts.n} Ready after ${floorSeconds}s`);
      results.floor = {
        timeToAllReadySeconds: floorSeconds,
        clientSeconds: seconds(floor.finishedAt - floor.startedAt),
        perSecond: round(opts.n / floorSeconds, 1),
        requests: floor.requests,
        requestsTotal: Object.values(floor.requests).reduce((a, b) => a + b, 0),
        cpuSeconds: diffCpu(cpuF0, cpuF1),
      };
      results.ratio = round(results.operator.timeToAllReadySeconds / floorSeconds, 2);
      results.ratioExcludingStartup = round(results.operator.syncSeconds / floorSeconds, 2);
      results.cpuRatio = round(ourCpu(results.operator.cpuSeconds) / ourCpu(results.floor.cpuSeconds), 2);
    }
    results.machine = { ...loadAtStart, loadavg1AtEnd: machineLoad().loadavg1, node: `${operatorNodeVersion()} (operator)` };
    const full = results as Results;
    printReport(full);
    const outDir = join(ROOT, 'bench/results');
    await mkdir(outDir, { recursive: true });
    const file = opts.out ?? join(outDir, `sync-bench-n${opts.n}-${results.config.startedAt.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, JSON.stringify(full, null, 2) + '\n');
    log(`results written to ${relative(process.cwd(), file)}`);
    const missed = checkedTargets(full).filter((x) => x.result === 'MISS');
    if (opts.check && missed.length > 0) {
      log(`--check: missed ${missed.map((x) => `${x.name} (${x.value}, target ${x.target})`).join('; ')}`);
      return 1;
    }
    return 0;
  } catch (err) {
    log(`FAILED: ${(err as Error).stack ?? String(err)}`);
    const opLog = join(dir, 'operator.log');
    if (existsSync(opLog)) log(`operator log (last lines):\n${readFileSync(opLog, 'utf8').split('\n').slice(-30).join('\n')}`);
    if (!opts.keep) log('rerun with --keep to keep the control plane logs and the operator log');
    return 1;
  } finally {
    await cleanup();
  }
}

process.exitCode = await main();
