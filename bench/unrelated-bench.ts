// `make bench-unrelated`: what objects the operator does not manage cost it (#11 point 6). On a
// fresh control plane the operator runs once with nothing in the cluster, then again after D
// Deployments (a realistic pod template each, with a large last-applied annotation, as kubectl
// apply leaves) and S unrelated Secrets (~1 KiB of data each) were created; both runs are measured
// the same way (peak RSS and heap used after /readyz and a settle). Target: ≤ 20 MB added for
// 10,000 Deployments and 20,000 Secrets; and ≤ 60 MB with no objects at all (#11 point 1).
// The operator runs as the image runs it: dist/ bundled by `scripts/image.sh --app` (esbuild,
// minified, split into chunks) with the image's node flags; `--operator dist` runs dist/ instead;
// `--dist DIR` takes the compiled operator from DIR instead of dist/.
//
//   tsx bench/unrelated-bench.ts [--deployments 10000] [--secrets 20000] [--namespaces 10] [--settle 10s]
//       [--operator bundle|dist] [--dist DIR] [--node-arg=--max-semi-space-size=4 ...]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../e2e/harness/control-plane.js';
import { prepareCluster } from '../e2e/support/operator.js';
import { createIgnoringConflict } from './lib/fixtures.js';
import { KubeHttp, loadAccess, runPool } from './lib/kube-http.js';
import { bundleOperator, IMAGE_NODE_FLAGS, OperatorProcess } from './lib/operator-process.js';
import { round } from './lib/proc.js';

const OPERATOR_NS = 'lockstep-system';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Run { readySeconds: number; peakRssMB: number; rssMB: number; heapUsedMB: number }

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

async function measure(kubeconfigPath: string, dir: string, label: string, settleMs: number, nodeArgs: string[], launch: Launch): Promise<Run> {
  const op = await OperatorProcess.start({
    kubeconfigPath, operatorNamespace: OPERATOR_NS, workers: 10, logFile: join(dir, `operator-${label}.log`), cwd: dir, nodeArgs, ...launch,
  });
  try {
    const readyAt = await op.waitReady(300_000);
    await sleep(settleMs);
    const m = await op.metrics();
    const mem = op.memory();
    return { readySeconds: round((readyAt - op.startedAt) / 1000, 2), peakRssMB: mb(mem.peakRss), rssMB: mb(mem.rss), heapUsedMB: mb(m.sum('lockstep_nodejs_heap_size_used_bytes')) };
  } finally {
    await op.stop();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: {
    deployments: { type: 'string', default: '10000' }, secrets: { type: 'string', default: '20000' },
    namespaces: { type: 'string', default: '10' }, settle: { type: 'string', default: '10s' },
    'node-arg': { type: 'string', multiple: true, default: [] }, operator: { type: 'string', default: 'bundle' },
    dist: { type: 'string', default: 'dist' },
  } });
  if (values.operator !== 'bundle' && values.operator !== 'dist') throw new Error('--operator is bundle or dist');
  const nodeArgs = values['node-arg'];
  const deployments = Number(values.deployments);
  const secrets = Number(values.secrets);
  const namespaces = Array.from({ length: Number(values.namespaces) }, (_, i) => `unrelated-${i}`);
  const settleMs = Number(values.settle.replace(/s$/, '')) * 1000;
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-bench-unrelated-'));
  const launch: Launch = values.operator === 'bundle' ? { from: 'bundle', entry: bundleOperator(join(dir, 'app'), resolve(values.dist)) }
    : { from: 'dist', entry: resolve(values.dist, 'cmd/main.js') };
  const cp = await startControlPlane({ dir: join(dir, 'cluster') });
  try {
    await prepareCluster(cp.kubeconfigPath, OPERATOR_NS);
    const http = new KubeHttp(loadAccess(cp.kubeconfigPath), 32);
    log('operator with no objects');
    const empty = await measure(cp.kubeconfigPath, dir, 'empty', settleMs, nodeArgs, launch);
    log(`  ready ${empty.readySeconds}s, peak RSS ${empty.peakRssMB} MB, heap used ${empty.heapUsedMB} MB`);
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
    const full = await measure(cp.kubeconfigPath, dir, 'unrelated', settleMs, nodeArgs, launch);
    log(`  ready ${full.readySeconds}s, peak RSS ${full.peakRssMB} MB, heap used ${full.heapUsedMB} MB`);
    http.close();
    const added = round(full.peakRssMB - empty.peakRssMB, 1);
    const rows = [
      ['figure', 'no objects', `${deployments} Deployments + ${secrets} Secrets`, 'added'],
      ['seconds to ready', String(empty.readySeconds), String(full.readySeconds), ''],
      ['peak RSS (MB)', String(empty.peakRssMB), String(full.peakRssMB), String(added)],
      ['RSS after settle (MB)', String(empty.rssMB), String(full.rssMB), String(round(full.rssMB - empty.rssMB, 1))],
      ['heap used (MB)', String(empty.heapUsedMB), String(full.heapUsedMB), String(round(full.heapUsedMB - empty.heapUsedMB, 1))],
    ];
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    process.stdout.write(`\noperator: ${launch.from === 'bundle' ? "the image's bundle (scripts/image.sh --app)" : 'dist/cmd/main.js'}; node flags: ${[...IMAGE_NODE_FLAGS, ...nodeArgs].join(' ')} (the image's, then --node-arg)\n`);
    process.stdout.write(`\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n')}\n\n`);
    process.stdout.write(`target: peak RSS with no objects <= 60 MB: ${empty.peakRssMB} ${empty.peakRssMB <= 60 ? 'PASS' : 'MISS'}\n`);
    process.stdout.write(`target: added by unrelated objects <= 20 MB: ${added} ${added <= 20 ? 'PASS' : 'MISS'}\n`);
    return 0;
  } finally {
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
