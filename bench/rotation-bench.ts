// `make bench-rotation`: how fast and how exactly a rotation reaches the workloads. On a real local
// control plane (with kube-controller-manager, which makes the ReplicaSets), n ExternalSecrets read
// one fake SecretStore (refreshInterval 5s); each is consumed by its own Deployment (replicas 0,
// `lockstep.dev/restart-on: auto`, one env secretKeyRef). Once all are synced and one unchanged
// refresh has passed, every value is changed at once with ONE store update; the benchmark then
// notes, from a watch on the Deployments, when each pod template gets `lockstep.dev/restarted-at`,
// and after things settle counts restarts, generations and ReplicaSets per Deployment.
//
//   tsx bench/rotation-bench.ts [--n 100] [--refresh-interval 5s] [--settle 20s] [--workers 10]
//
// Operator flags (so no safety valve delays or merges the restarts being measured):
//   --rollout-window 1s --rollout-min-interval 0s --max-rollouts-in-flight 1000
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../e2e/harness/control-plane.js';
import { prepareCluster } from '../e2e/support/operator.js';
import { createIgnoringConflict, GROUP_PATH, SET_LABEL } from './lib/fixtures.js';
import { ContentTypes, KubeHttp, loadAccess, runPool } from './lib/kube-http.js';
import { OperatorProcess, ROOT } from './lib/operator-process.js';
import { machineLoad } from './lib/proc.js';
import { ReadyWatcher } from './lib/ready-watcher.js';
import { StoreRoundWatcher } from './lib/store-rounds.js';
import { ObjectWatcher } from './lib2/object-watcher.js';
import { Cleanup, counterDiff, gitDescribe, logFailure, histogram, logger, printTables, quantile, seconds, sleep, target, writeResults, type Target } from './lib2/util.js';

const OPERATOR_NS = 'lockstep-system';
const NS = 'rbench';
const SET = 'rotation';
const STORE = 'fake';
const RESTARTED_AT = 'lockstep.dev/restarted-at';
const RESTARTED_FOR = 'lockstep.dev/restarted-for';
const ROLLOUT_FLAGS = ['--rollout-window', '1s', '--rollout-min-interval', '0s', '--max-rollouts-in-flight', '1000'];
const log = logger('rotation-bench');

interface Options { n: number; refreshInterval: string; settleMs: number; workers: number; keep: boolean }

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '100' },
      'refresh-interval': { type: 'string', default: '5s' },
      settle: { type: 'string', default: '20s' },
      workers: { type: 'string', default: '10' },
      keep: { type: 'boolean', default: false },
    },
  });
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 1) throw new Error('--n must be a positive integer');
  for (const f of ['refresh-interval', 'settle'] as const) if (!/^\d+s$/.test(values[f])) throw new Error(`--${f} must look like 5s`);
  return { n, refreshInterval: values['refresh-interval'], settleMs: Number(values.settle.slice(0, -1)) * 1000, workers: Number(values.workers), keep: values.keep };
}

const pad = (i: number) => String(i).padStart(3, '0');
const storeData = (n: number, round: number) => Array.from({ length: n }, (_, i) => ({ key: `k-${pad(i)}`, value: `value-${i}-round-${round}` }));

interface Deployment {
  metadata: { name: string; namespace: string; resourceVersion: string; generation?: number; uid: string };
  spec: { template: { metadata?: { annotations?: Record<string, string> } } };
  status?: { observedGeneration?: number };
}

interface Track {
  generation: number;
  restartedAt?: string;
  /** Every distinct restarted-for token seen, in order, with when it was first seen. */
  tokens: { token: string; at: number }[];
  /** Distinct restarted-at values seen (each one is a pod-template patch). */
  patches: number;
  observedGeneration?: number;
}


function deploymentBody(i: number): Record<string, unknown> {
  const name = `dep-${pad(i)}`;
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: NS, labels: { [SET_LABEL]: SET }, annotations: { 'lockstep.dev/restart-on': 'auto' } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.invalid/bench:1', env: [{ name: 'VALUE', valueFrom: { secretKeyRef: { name: `es-${pad(i)}`, key: 'value' } } }] }] },
      },
    },
  };
}

async function until(what: string, timeoutMs: number, done: () => boolean, progress?: () => string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${progress ? ` (${progress()})` : ''}`);
    if (progress && Date.now() - lastLog > 5000) { log(`  ${what}: ${progress()}`); lastLog = Date.now(); }
    await sleep(50);
  }
  return Date.now();
}

async function main(): Promise<number> {
  const opts = parseOptions();
  const cleanup = new Cleanup(log);
  const startedAt = new Date().toISOString();
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-rotation-bench-'));
  cleanup.add('temp dir', async () => { if (opts.keep) log(`kept ${dir}`); else await rm(dir, { recursive: true, force: true }); });
  const intervalMs = Number(opts.refreshInterval.slice(0, -1)) * 1000;
  const load0 = machineLoad();
  try {
    if (!existsSync(join(ROOT, 'dist/cmd/main.js'))) throw new Error('dist/cmd/main.js is missing: run `make build`');
    log(`n=${opts.n} refreshInterval=${opts.refreshInterval} operator flags: ${ROLLOUT_FLAGS.join(' ')} (load ${load0.loadavg1} on ${load0.cpus} CPUs)`);
    const cp = await startControlPlane({ dir: join(dir, 'cluster') });
    cleanup.add('control plane', () => cp.stop());
    await prepareCluster(cp.kubeconfigPath, OPERATOR_NS);
    const access = loadAccess(cp.kubeconfigPath);
    const http = new KubeHttp(access, 32);
    cleanup.add('kube http', () => http.close());

    // ---- fixtures ----
    await createIgnoringConflict(http, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await createIgnoringConflict(http, `${GROUP_PATH}/namespaces/${NS}/secretstores`, {
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: STORE, namespace: NS },
      spec: { refreshInterval: opts.refreshInterval, provider: { fake: { data: storeData(opts.n, 1) } } },
    });
    const idx = Array.from({ length: opts.n }, (_, i) => i);
    await runPool(idx, 16, (i) => createIgnoringConflict(http, `${GROUP_PATH}/namespaces/${NS}/externalsecrets`, {
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret',
      metadata: { name: `es-${pad(i)}`, namespace: NS, labels: { [SET_LABEL]: SET } },
      spec: { secretStoreRef: { name: STORE }, refreshInterval: opts.refreshInterval, data: [{ secretKey: 'value', remoteRef: { key: `k-${pad(i)}` } }] },
    }));
    await runPool(idx, 16, (i) => createIgnoringConflict(http, `/apis/apps/v1/namespaces/${NS}/deployments`, deploymentBody(i)));
    log(`created ${opts.n} ExternalSecrets and ${opts.n} Deployments`);

    // ---- watches ----
    const tracks = new Map<string, Track>();
    let changeAt = Number.POSITIVE_INFINITY;
    const deployments = new ObjectWatcher<Deployment>(http, access, `/apis/apps/v1/namespaces/${NS}/deployments`, `${SET_LABEL}=${SET}`, (type, d, at) => {
      if (type === 'DELETED') return;
      const t = tracks.get(d.metadata.name) ?? { generation: d.metadata.generation ?? 0, tokens: [], patches: 0 };
      tracks.set(d.metadata.name, t);
      t.generation = d.metadata.generation ?? 0;
      t.observedGeneration = d.status?.observedGeneration;
      const ann = d.spec.template.metadata?.annotations ?? {};
      const token = ann[RESTARTED_FOR];
      if (token !== undefined && t.tokens.at(-1)?.token !== token) t.tokens.push({ token, at });
      if (ann[RESTARTED_AT] !== undefined && ann[RESTARTED_AT] !== t.restartedAt) {
        t.restartedAt = ann[RESTARTED_AT];
        t.patches++;
      }
    });
    cleanup.add('deployment watch', () => deployments.stop());
    await deployments.start();
    const es = new ReadyWatcher(http, access, `${SET_LABEL}=${SET}`);
    cleanup.add('es watch', () => es.stop());
    await es.start();
    // An unchanged refresh writes nothing to the ExternalSecrets: a round shows on the store's status.refresh.
    const rounds = new StoreRoundWatcher(http, `${GROUP_PATH}/namespaces/${NS}/secretstores`, (st) => st.metadata.name === STORE);
    cleanup.add('store rounds', () => rounds.stop());
    await rounds.start();

    // ---- operator, first sync ----
    const op = await OperatorProcess.start({
      kubeconfigPath: cp.kubeconfigPath, operatorNamespace: OPERATOR_NS, workers: opts.workers,
      logFile: join(dir, 'operator.log'), from: 'dist', cwd: dir, extraArgs: ROLLOUT_FLAGS,
    });
    cleanup.add('operator', () => op.stop());
    log(`operator started (pid ${op.pid})`);
    await op.waitReady(120_000);
    const readyAt = await until('all ExternalSecrets Ready', 120_000, () => es.count >= opts.n || !op.running, () => `${es.count}/${opts.n}`);
    if (!op.running) throw new Error('the operator exited');
    log(`all ${opts.n} Ready after ${seconds(readyAt - op.startedAt)}s; waiting one unchanged refresh round`);
    await rounds.mark();
    await until('one unchanged refresh round', intervalMs * 3 + 30_000, () => rounds.refreshedCount(1) >= 1, () => `${rounds.refreshedCount(1)}/1 store`);
    await until('Deployments observed by kube-controller-manager', 60_000,
      () => tracks.size >= opts.n && [...tracks.values()].every((t) => t.observedGeneration === t.generation));
    const patchesBefore = [...tracks.values()].reduce((s, t) => s + t.patches, 0);
    const genBefore = new Map([...tracks].map(([k, t]) => [k, t.generation]));
    const rsBefore = await replicaSetsPerDeployment(http);
    const m0 = await op.metrics();

    // ---- the rotation: one store update changes every value ----
    changeAt = Date.now();
    await http.send('PATCH', `${GROUP_PATH}/namespaces/${NS}/secretstores/${STORE}`, { spec: { provider: { fake: { data: storeData(opts.n, 2) } } } }, ContentTypes.merge);
    log('store updated: every value changed');
    const restartedAfter = () => [...tracks.values()].filter((t) => t.tokens.some((x) => x.at >= changeAt)).length;
    let allPatchedAt: number | undefined;
    try {
      allPatchedAt = await until('every Deployment restarted', 120_000, () => restartedAfter() >= opts.n, () => `${restartedAfter()}/${opts.n}`);
      log(`all ${opts.n} Deployments patched after ${seconds(allPatchedAt - changeAt)}s; settling ${opts.settleMs / 1000}s`);
    } catch (err) {
      log(`${(err as Error).message}; measuring what happened`);
    }
    await sleep(opts.settleMs);
    await until('Deployments observed by kube-controller-manager', 60_000, () => [...tracks.values()].every((t) => t.observedGeneration === t.generation)).catch(() => 0);
    const m1 = await op.metrics();
    const rsAfter = await replicaSetsPerDeployment(http);
    const secretsRotated = await countRotatedSecrets(http, opts.n);
    await op.stop();

    // ---- figures ----
    const names = [...tracks.keys()].sort();
    const latencies = names.map((n) => tracks.get(n)?.tokens.find((x) => x.at >= changeAt)).filter((x) => x !== undefined).map((x) => x.at - changeAt);
    const restartsPer = names.map((n) => (tracks.get(n)?.tokens.filter((x) => x.at >= changeAt).length ?? 0));
    const genDelta = names.map((n) => (tracks.get(n)?.generation ?? 0) - (genBefore.get(n) ?? 0));
    const newRs = names.map((n) => (rsAfter.get(n) ?? 0) - (rsBefore.get(n) ?? 0));
    const dist = (xs: number[]) => Object.fromEntries([...new Set(xs)].sort((a, b) => a - b).map((v) => [v, xs.filter((x) => x === v).length]));
    const prop = histogram(m1, 'lockstep_rotation_propagation_seconds');
    const p = (q: number) => { const v = quantile(latencies, q); return v === undefined ? undefined : seconds(v); };
    const exactlyOnce = restartsPer.filter((x) => x === 1).length;
    const targets: Target[] = [
      target('p99 store change → pod-template patch (s)', latencies.length === opts.n ? p(0.99) : Number.NaN, '<=', intervalMs / 1000 + 2),
      target('Deployments restarted exactly once', exactlyOnce, '==', opts.n),
      target('Deployments with generation +1', genDelta.filter((x) => x === 1).length, '==', opts.n),
      target('Deployments with exactly 1 new ReplicaSet', newRs.filter((x) => x === 1).length, '==', opts.n),
      target('restarts before the change (first sync + unchanged refresh)', patchesBefore, '==', 0),
    ];
    const restartsMetric = counterDiff(m0, m1, 'lockstep_restarts_total', ['kind', 'outcome']);
    const deferred = counterDiff(m0, m1, 'lockstep_restarts_deferred_total', ['reason']);
    const rotations = m1.sum('lockstep_rotations_total') - m0.sum('lockstep_rotations_total');
    const figures: string[][] = [
      ['layout', `${opts.n} ES + ${opts.n} Deployments`, `1 fake SecretStore, refreshInterval ${opts.refreshInterval}, replicas 0, restart-on auto; operator ${ROLLOUT_FLAGS.join(' ')}`],
      ['time to all Ready', `${seconds(readyAt - op.startedAt)} s`, 'from operator process start'],
      ['Secrets holding the new value', `${secretsRotated}/${opts.n}`, 'after settling'],
      ['patched Deployments', `${latencies.length}/${opts.n}`, allPatchedAt ? `last after ${seconds(allPatchedAt - changeAt)} s` : 'not all'],
      ['store change → patch p50 / p90 / p99 / max', `${p(0.5)} / ${p(0.9)} / ${p(0.99)} / ${p(1)} s`, 'from the PATCH of the store to the watch event showing restarted-for'],
      ['operator propagation histogram', `p50 ${prop.p50} / p99 ${prop.p99} s`, `count ${prop.count}, sum ${prop.sum} s (lockstep_rotation_propagation_seconds, bucket-interpolated)`],
      ['restarts per Deployment', JSON.stringify(dist(restartsPer)), 'distinct restarted-for tokens after the change: {count: Deployments}'],
      ['generation delta per Deployment', JSON.stringify(dist(genDelta)), ''],
      ['new ReplicaSets per Deployment', JSON.stringify(dist(newRs)), `by kube-controller-manager; before the change ${JSON.stringify(dist([...rsBefore.values()]))}`],
      ['operator metrics during the rotation', `rotations ${rotations}`, `restarts ${JSON.stringify(restartsMetric)}, deferred ${JSON.stringify(deferred)}`],
    ];
    printTables('Lockstep rotation benchmark', figures, targets);
    await writeResults('rotation-bench', startedAt, {
      config: { ...opts, operatorFlags: ROLLOUT_FLAGS, commit: gitDescribe(), startedAt },
      machine: { ...load0, loadavg1AtEnd: machineLoad().loadavg1, node: process.version },
      timeToAllReadySeconds: seconds(readyAt - op.startedAt),
      latencySeconds: { p50: p(0.5), p90: p(0.9), p99: p(0.99), max: p(1), all: latencies.map(seconds) },
      propagationHistogram: prop,
      restartsPerDeployment: dist(restartsPer), generationDelta: dist(genDelta), newReplicaSets: dist(newRs),
      restartsBeforeChange: patchesBefore, secretsRotated, rotations, restartsMetric, deferred,
      perDeployment: Object.fromEntries(names.map((n) => [n, tracks.get(n)?.tokens.filter((x) => x.at >= changeAt).map((x) => ({ token: x.token, afterSeconds: seconds(x.at - changeAt) }))])),
      targets,
    }, log);
    return 0;
  } catch (err) {
    logFailure(log, err, dir);
    return 1;
  } finally {
    await cleanup.run();
  }
}

/** ReplicaSets in the namespace per owning Deployment name. */
async function replicaSetsPerDeployment(http: KubeHttp): Promise<Map<string, number>> {
  const { items } = await http.listAll<{ metadata: { ownerReferences?: { kind: string; name: string }[] } }>(`/apis/apps/v1/namespaces/${NS}/replicasets`);
  const out = new Map<string, number>();
  for (const rs of items) {
    const owner = rs.metadata.ownerReferences?.find((o) => o.kind === 'Deployment')?.name;
    if (owner) out.set(owner, (out.get(owner) ?? 0) + 1);
  }
  return out;
}

async function countRotatedSecrets(http: KubeHttp, n: number): Promise<number> {
  const { items } = await http.listAll<{ metadata: { name: string }; data?: Record<string, string> }>(`/api/v1/namespaces/${NS}/secrets`);
  const want = new Map(storeData(n, 2).map((e, i) => [`es-${pad(i)}`, e.value]));
  return items.filter((s) => want.get(s.metadata.name) === Buffer.from(s.data?.['value'] ?? '', 'base64').toString('utf8')).length;
}

process.exitCode = await main();
