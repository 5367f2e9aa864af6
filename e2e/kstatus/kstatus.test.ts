// What GitOps tools read from our status: kstatus's own rules (sigs.k8s.io/cli-utils, as Flux and
// kpt run them, built by e2e/kstatus/build.sh) and our Argo CD health check (config/argocd, run in
// Lua 5.4), over real objects the operator reported on.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, externalSecret, getJson, readyOf, secretStore } from '../support/resources.js';

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const HEALTH_LUA = fileURLToPath(new URL('../../config/argocd/health.lua', import.meta.url));

let cluster: TestCluster;
let ns: string;
let opNs: string;
let op: RunningOperator | undefined;
let kstatus: string;

function pipe(cmd: string, args: string[], input: string): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`${cmd}: ${err}`))));
    child.stdin.end(input);
  });
}

/** name → kstatus status (Current, InProgress, Failed, ...) of every ExternalSecret in the namespace. */
async function kstatusOf(): Promise<Record<string, string>> {
  const list = await cluster.kubectl(['get', 'externalsecrets', '-n', ns, '-o', 'json']);
  const out = await pipe(kstatus, [], list);
  return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split(' ').slice(0, 2) as [string, string]));
}

/** A JSON value as a Lua table constructor (JSON null becomes nil). */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(',')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${JSON.stringify(k)}]=${toLua(x)}`).join(',')}}`;
}

/** name → Argo CD health status our Lua check computes for every ExternalSecret in the namespace. */
async function argoHealthOf(): Promise<Record<string, string>> {
  const list = JSON.parse(await cluster.kubectl(['get', 'externalsecrets', '-n', ns, '-o', 'json'])) as { items: { metadata: { name: string } }[] };
  const result: Record<string, string> = {};
  for (const item of list.items) {
    const { stdout } = await run('lua5.4', ['-e', `obj = ${toLua(item)}; local hs = dofile(${JSON.stringify(HEALTH_LUA)}); io.write(hs.status)`]);
    result[item.metadata.name] = stdout;
  }
  return result;
}

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('kstatus');
  opNs = await cluster.createNamespace('kstatus-ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  ({ stdout: kstatus } = await run('bash', [here('./build.sh')], { maxBuffer: 1 << 24 }));
  kstatus = kstatus.trim().split('\n').at(-1) ?? '';
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
  await apply(cluster, secretStore(ns, 'st', [{ key: 'k', value: 'kstatus-e2e-value' }]));
  await apply(cluster, externalSecret(ns, 'synced', { secretStoreRef: { name: 'st' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] }));
  await apply(cluster, externalSecret(ns, 'broken', { secretStoreRef: { name: 'st' }, target: { template: { data: { x: '{{ nope }}' } } }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] }));
  await apply(cluster, externalSecret(ns, 'waiting', { secretStoreRef: { name: 'not-yet' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] }));
  for (const [name, reason] of [['synced', 'SecretSynced'], ['broken', 'InvalidSpec'], ['waiting', 'StoreNotFound']]) {
    await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', ns, name ?? ''))?.reason === reason, 30_000, `${name} ${reason}`);
  }
}, 180_000);

afterAll(async () => {
  await op?.stop();
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
});

describe('GitOps tools read our status right', () => {
  test('kstatus: Current when synced, Failed for a permanent error, InProgress for one that may heal', async () => {
    expect(await kstatusOf()).toEqual({ synced: 'Current', broken: 'Failed', waiting: 'InProgress' });
  });

  test('Argo CD health check: Healthy, Degraded, Degraded', async () => {
    expect(await argoHealthOf()).toEqual({ synced: 'Healthy', broken: 'Degraded', waiting: 'Degraded' });
  });

  test('right after a spec change both say in progress, until Lockstep has reported on the new generation', async () => {
    await op?.stop();
    op = undefined;
    await cluster.kubectl(['patch', 'externalsecret', 'synced', '-n', ns, '--type=merge', '-p', '{"spec":{"refreshInterval":"2h"}}']);
    expect((await kstatusOf()).synced).toBe('InProgress');
    expect((await argoHealthOf()).synced).toBe('Progressing');
    op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
    await eventually(async () => (await kstatusOf()).synced === 'Current', 30_000, 'Current again');
    expect((await argoHealthOf()).synced).toBe('Healthy');
  });

  test('the store appearing heals the waiting one: InProgress becomes Current', async () => {
    await apply(cluster, secretStore(ns, 'not-yet', [{ key: 'k', value: 'kstatus-e2e-value' }]));
    await eventually(async () => (await kstatusOf()).waiting === 'Current', 30_000, 'waiting Current');
  });

  test('config/argocd/argocd-cm.yaml carries exactly config/argocd/health.lua for each kind', async () => {
    const cm = parse(await readFile(fileURLToPath(new URL('../../config/argocd/argocd-cm.yaml', import.meta.url)), 'utf8')) as { data: Record<string, string> };
    const lua = await readFile(HEALTH_LUA, 'utf8');
    for (const kind of ['ExternalSecret', 'SecretStore', 'ClusterSecretStore']) {
      expect(cm.data[`resource.customizations.health.lockstep.dev_${kind}`]).toBe(lua);
    }
  });
});
