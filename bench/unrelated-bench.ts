// `make bench-unrelated`: what objects the operator does not manage cost it (#11 point 6). On a
// fresh control plane the operator runs once with nothing in the cluster, then again after D
// Deployments (a realistic pod template each, with a large last-applied annotation, as kubectl
// apply leaves) and S unrelated Secrets (~1 KiB of data each) were created; both runs are measured
// the same way (peak RSS and heap used after /readyz and a settle). Target: ≤ 20 MB added for
// 10,000 Deployments and 20,000 Secrets; and ≤ 60 MB with no objects at all (#11 point 1).
// The operator runs as the image runs it: dist/ bundled by `scripts/image.sh --app` (esbuild,
// minified, split into chunks) with the image's node flags; `--operator dist` runs dist/ instead;
// `--dist DIR` takes the compiled operator from DIR instead of dist/.
// Before/after comparisons: `--dist BEFORE --dist AFTER --runs 3` measures each build in turn on one
// control plane (the empty runs alternate, then the objects are created once, then the full runs
// alternate) and prints each build's runs and medians, with the load average at each run and where
// its RSS is after the settle (/proc/PID/smaps: malloc's main arena, thread arenas, other anonymous
// memory, the node binary's pages; see lib/smaps.ts).
//
//   tsx bench/unrelated-bench.ts [--deployments 10000] [--secrets 20000] [--namespaces 10] [--settle 10s]
//       [--operator bundle|dist] [--dist DIR ...] [--runs 1] [--node-arg=--max-semi-space-size=4 ...]
//       [--operator-arg=--scoped-caches-max-namespaces=0 ...]
// The unrelated objects are in namespaces that hold no ExternalSecret, so the operator keeps no
// cache of them but the names of its own kinds (namespace-scope.ts); with
// `--operator-arg=--scoped-caches-max-namespaces=0` it caches them cluster-wide, which is what they
// cost when they share namespaces with ExternalSecrets.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../e2e/harness/control-plane.js';
import { prepareCluster } from '../e2e/support/operator.js';
import { createIgnoringConflict } from './lib/fixtures.js';
import { KubeHttp, loadAccess, runPool } from './lib/kube-http.js';
import { bundleOperator, IMAGE_NODE_FLAGS, OperatorProcess } from './lib/operator-process.js';
import { cpuSeconds, round } from './lib/proc.js';
import { formatSmaps, readSmaps } from './lib/smaps.js';

const OPERATOR_NS = 'lockstep-system';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Run { readySeconds: number; cpuSeconds: number; peakRssMB: number; rssMB: number; heapUsedMB: number; load: number; smaps: string }

function deployment(ns: string, i: number): Record<string, unknown> {
  const name = `app-${String(i).padStart(5, '0')}`;
  const template = {
    metadata: { labels: { app: name }, annotations: { 'prometheus.io/scrape': 'true' } },
    spec: {
      containers: [{
        name: 'app', image: `registry.example.com/team/${name}:1.2.3`, ports: [{ containerPort: 8080 }],
        env: [{ name: 'MODE', value: 'production' }, { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: `${name}-db`, key: 'password' } } }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
      }],
    },
  };
  const body = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: { replicas: 0, selector: { matchLabels: { app: name } }, template },
  };
  const annotated = { ...body, metadata: { ...body.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(body) } } };
  return annotated;
}

function secret(ns: string, i: number): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: `unrelated-${String(i).padStart(5, '0')}`, namespace: ns, labels: { team: 'other' } },
    data: { 'tls.crt': Buffer.from('c'.repeat(700)).toString('base64'), 'tls.key': Buffer.from('k'.repeat(300)).toString('base64') },
  };
}

/** How the operator is run: the image's bundle (its main.mjs), or dist/. */
interface Launch { from: 'bundle' | 'dist'; entry: string }

async function measure(
  kubeconfigPath: string, dir: string, label: string, settleMs: number, nodeArgs: string[], extraArgs: string[], launch: Launch,
): Promise<Run> {
  const op = await OperatorProcess.start({
    kubeconfigPath, operatorNamespace: OPERATOR_NS, workers: 10, logFile: join(dir, `operator-${label}.log`), cwd: dir, nodeArgs, extraArgs, ...launch,
  });
  try {
    const readyAt = await op.waitReady(300_000);
    const cpu = cpuSeconds(op.pid);
    await sleep(settleMs);
    const m = await op.metrics();
    const mem = op.memory();
    const smaps = formatSmaps(readSmaps(op.pid));
    return {
      readySeconds: round((readyAt - op.startedAt) / 1000, 2), cpuSeconds: round(cpu, 2), peakRssMB: mb(mem.peakRss), rssMB: mb(mem.rss),
      heapUsedMB: mb(m.sum('lockstep_nodejs_heap_size_used_bytes')), load: round(loadavg()[0] ?? 0, 1), smaps,
    };
  } finally {
    await op.stop();
  }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2, 2);
};

/** One build under test: its label (the --dist given) and how it is launched. */
interface Build { label: string; launch: Launch; empty: Run[]; full: Run[] }

async function main(): Promise<number> {
  const { values } = parseArgs({ options: {
    deployments: { type: 'string', default: '10000' }, secrets: { type: 'string', default: '20000' },
    namespaces: { type: 'string', default: '10' }, settle: { type: 'string', default: '10s' },
    'node-arg': { type: 'string', multiple: true, default: [] }, 'operator-arg': { type: 'string', multiple: true, default: [] }, operator: { type: 'string', default: 'bundle' },
    dist: { type: 'string', multiple: true, default: ['dist'] }, runs: { type: 'string', default: '1' },
  } });
  if (values.operator !== 'bundle' && values.operator !== 'dist') throw new Error('--operator is bundle or dist');
  const nodeArgs = values['node-arg'];
  const operatorArgs = values['operator-arg'];
  const deployments = Number(values.deployments);
  const secrets = Number(values.secrets);
  const runs = Number(values.runs);
  const namespaces = Array.from({ length: Number(values.namespaces) }, (_, i) => `unrelated-${i}`);
  const settleMs = Number(values.settle.replace(/s$/, '')) * 1000;
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-bench-unrelated-'));
  const builds: Build[] = values.dist.map((dist, i) => ({
    label: dist, empty: [], full: [],
    launch: values.operator === 'bundle' ? { from: 'bundle', entry: bundleOperator(join(dir, `app-${i}`), resolve(dist)) }
      : { from: 'dist', entry: resolve(dist, 'cmd/main.js') },
  }));
  const cp = await startControlPlane({ dir: join(dir, 'cluster') });
  try {
    await prepareCluster(cp.kubeconfigPath, OPERATOR_NS);
    const http = new KubeHttp(loadAccess(cp.kubeconfigPath), 32);
    const measureAll = async (phase: 'empty' | 'full') => {
      for (let r = 0; r < runs; r++) {
        for (const [i, build] of builds.entries()) {
          const run = await measure(cp.kubeconfigPath, dir, `${phase}-${i}-${r}`, settleMs, nodeArgs, operatorArgs, build.launch);
          build[phase].push(run);
          log(`  ${build.label}: ready ${run.readySeconds}s (CPU ${run.cpuSeconds}s), peak RSS ${run.peakRssMB} MB, heap used ${run.heapUsedMB} MB, load ${run.load}; after the settle: ${run.smaps}`);
        }
      }
    };
    log('operator with no objects');
    await measureAll('empty');
    for (const ns of namespaces) await createIgnoringConflict(http, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const t = Date.now();
    await runPool(Array.from({ length: deployments }, (_, i) => i), 32, async (i) => {
      const ns = namespaces[i % namespaces.length] as string;
      await createIgnoringConflict(http, `/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, i));
    });
    await runPool(Array.from({ length: secrets }, (_, i) => i), 32, async (i) => {
      const ns = namespaces[i % namespaces.length] as string;
      await createIgnoringConflict(http, `/api/v1/namespaces/${ns}/secrets`, secret(ns, i));
    });
    log(`created ${deployments} Deployments and ${secrets} Secrets in ${round((Date.now() - t) / 1000, 1)}s`);
    log(`operator with ${deployments} Deployments and ${secrets} Secrets`);
    await measureAll('full');
    http.close();
    const from = builds[0]?.launch.from === 'bundle' ? "the image's bundle (scripts/image.sh --app)" : 'dist/cmd/main.js';
    process.stdout.write(`\noperator: ${from}; node flags: ${[...IMAGE_NODE_FLAGS, ...nodeArgs].join(' ')} (the image's, then --node-arg)${operatorArgs.length ? `; operator flags: ${operatorArgs.join(' ')}` : ''}\n`);
    for (const build of builds) report(build, deployments, secrets);
    return 0;
  } finally {
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A build's table: each figure's runs (median first when more than one), and the targets. */
function report(build: Build, deployments: number, secrets: number): void {
  const { empty, full } = build;
  const cell = (runs: Run[], f: (r: Run) => number) => {
    const xs = runs.map(f);
    return xs.length > 1 ? `${median(xs)} (${xs.join(', ')})` : String(xs[0]);
  };
  const added = empty.map((e, i) => round((full[i]?.peakRssMB ?? Number.NaN) - e.peakRssMB, 1));
  const rows = [
    ['figure', 'no objects', `${deployments} Deployments + ${secrets} Secrets`, 'added'],
    ['seconds to ready', cell(empty, (r) => r.readySeconds), cell(full, (r) => r.readySeconds), ''],
    ['CPU seconds at ready', cell(empty, (r) => r.cpuSeconds), cell(full, (r) => r.cpuSeconds), ''],
    ['peak RSS (MB)', cell(empty, (r) => r.peakRssMB), cell(full, (r) => r.peakRssMB), `${round(median(full.map((r) => r.peakRssMB)) - median(empty.map((r) => r.peakRssMB)), 1)} (medians)`],
    ['RSS after settle (MB)', cell(empty, (r) => r.rssMB), cell(full, (r) => r.rssMB), ''],
    ['heap used (MB)', cell(empty, (r) => r.heapUsedMB), cell(full, (r) => r.heapUsedMB), ''],
    ['load average (1 min)', cell(empty, (r) => r.load), cell(full, (r) => r.load), ''],
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  process.stdout.write(`\n${build.label}\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n')}\n\n`);
  const emptyPeak = median(empty.map((r) => r.peakRssMB));
  const addedMedian = round(median(full.map((r) => r.peakRssMB)) - emptyPeak, 1);
  process.stdout.write(`target: peak RSS with no objects <= 60 MB: ${emptyPeak} ${emptyPeak <= 60 ? 'PASS' : 'MISS'}\n`);
  process.stdout.write(`target: added by unrelated objects <= 20 MB: ${addedMedian} ${addedMedian <= 20 ? 'PASS' : 'MISS'}${added.length > 1 ? ` (run by run: ${added.join(', ')})` : ''}\n`);
}

process.exitCode = await main();
