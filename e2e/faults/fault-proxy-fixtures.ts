// Shared set-up of the apiserver fault tests: a namespace with a fake store and N ExternalSecrets,
// the operator behind its own fault proxy, and a watch on the namespace's Secrets straight on the
// apiserver (to prove afterwards that none was blanked or deleted).
import { join } from 'node:path';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { externalSecret, secretStore } from '../support/resources.js';
import { isWrite, serverOf, startFaultProxy, watchCollection, type FaultProxy, type ObjectWatch, type RequestRecord } from './fault-proxy.js';

export interface Scenario {
  cluster: TestCluster;
  ns: string;
  proxy: FaultProxy;
  secrets: ObjectWatch;
  op?: RunningOperator;
  names: string[];
  cleanup(): Promise<void>;
}

export function pkiDir(cluster: TestCluster): string {
  if (!cluster.dir) throw new Error('these tests need the harness cluster (LOCKSTEP_CLUSTER_DIR with pki/)');
  return join(cluster.dir, 'pki');
}

/** The value the fake store serves for generation `gen` (JSON, extracted into two keys). */
export function storeValue(gen: number): string {
  return JSON.stringify({ user: `fault-user-${gen}`, password: `fault-pw-${gen}` });
}

export async function applyStore(cluster: TestCluster, ns: string, gen: number): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], secretStore(ns, 'st', [{ key: 'db', value: storeValue(gen) }], '1h'));
}

/** A namespace with a store and `count` ExternalSecrets, and a proxy; the operator is not started yet. */
export async function prepareScenario(prefix: string, count: number): Promise<Scenario> {
  const cluster = loadTestCluster();
  const ns = await cluster.createNamespace(prefix);
  await prepareCluster(cluster.kubeconfigPath, ns);
  const pki = pkiDir(cluster);
  const server = serverOf(cluster.kubeconfigPath);
  const proxy = await startFaultProxy({ upstream: server, pkiDir: pki });
  const secrets = await watchCollection(server, pki, `/api/v1/namespaces/${ns}/secrets`);
  await applyStore(cluster, ns, 1);
  const names = Array.from({ length: count }, (_, i) => `es-${String(i).padStart(2, '0')}`);
  const manifests = names.map((n) => externalSecret(ns, n, { secretStoreRef: { name: 'st' }, dataFrom: [{ extract: { key: 'db' } }] }));
  await cluster.kubectl(['apply', '-f', '-'], manifests.join('\n'));
  const scenario: Scenario = {
    cluster, ns, proxy, secrets, names,
    async cleanup() {
      await scenario.op?.stop('SIGKILL');
      secrets.stop();
      await proxy.close();
      await cluster.deleteNamespace(ns);
    },
  };
  return scenario;
}

export async function startBehindProxy(s: Scenario, extra: { leaderElect?: boolean; identity?: string; proxy?: FaultProxy } = {}): Promise<RunningOperator> {
  const op = await startOperator({
    kubeconfigPath: (extra.proxy ?? s.proxy).kubeconfigPath, operatorNamespace: s.ns, namespace: s.ns,
    leaderElect: extra.leaderElect, identity: extra.identity,
  });
  if (!extra.proxy) s.op = op;
  return op;
}

interface EsList { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }
interface SecretList { items: { metadata: { name: string }; data?: Record<string, string> }[] }

/** Names of the ExternalSecrets that are Ready=True. */
export async function readyNames(cluster: TestCluster, ns: string): Promise<Set<string>> {
  const list = JSON.parse(await cluster.kubectl(['get', 'externalsecrets', '-n', ns, '-o', 'json'])) as EsList;
  return new Set(list.items.filter((es) => es.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((es) => es.metadata.name));
}

/** Waits until every ExternalSecret is Ready and every Secret holds generation `gen`; returns ms waited. */
export async function waitConverged(s: Scenario, gen: number, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  const want = JSON.parse(storeValue(gen)) as Record<string, string>;
  await eventually(async () => {
    const ready = await readyNames(s.cluster, s.ns);
    if (!s.names.every((n) => ready.has(n))) return false;
    const list = JSON.parse(await s.cluster.kubectl(['get', 'secrets', '-n', s.ns, '-o', 'json'])) as SecretList;
    const byName = new Map(list.items.map((sec) => [sec.metadata.name, decode(sec.data)]));
    return s.names.every((n) => byName.get(n)?.password === want.password && byName.get(n)?.user === want.user);
  }, timeoutMs, `all ${s.names.length} ExternalSecrets Ready with generation ${gen}`);
  return Date.now() - started;
}

function decode(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/**
 * Every event seen on the ExternalSecrets' Secrets: none DELETED, and none that leaves a Secret
 * without both keys or with an empty value (a blanked Secret).
 */
export function blankingsOrDeletions(s: Scenario): string[] {
  const ours = new Set(s.names);
  const bad: string[] = [];
  for (const e of s.secrets.events) {
    if (!ours.has(e.name)) continue;
    if (e.type === 'DELETED') { bad.push(`${e.name} deleted`); continue; }
    const data = decode(e.data);
    if (!data.user || !data.password) bad.push(`${e.name} ${e.type} without user/password (rv ${e.resourceVersion})`);
  }
  return bad;
}

/** The operator is still the process it was (no crash, no restart), and logged no fatal error. */
export function expectAlive(op: RunningOperator): void {
  if (op.process.exitCode !== null || op.process.signalCode !== null) {
    throw new Error(`operator exited (${op.process.exitCode ?? op.process.signalCode}):\n${op.output().slice(-3000)}`);
  }
  const fatal = op.output().split('\n').filter((l) => /"level":(60|"fatal")|Unhandled|uncaught/i.test(l));
  if (fatal.length) throw new Error(`operator logged fatal errors:\n${fatal.slice(0, 5).join('\n')}`);
}

export const writes = (log: readonly RequestRecord[]): RequestRecord[] => log.filter(isWrite);

/** One line of figures per scenario, printed to the test output. */
export function report(title: string, figures: Record<string, unknown>): void {
  console.log(`[fault figures] ${title}: ${Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}`);
}
