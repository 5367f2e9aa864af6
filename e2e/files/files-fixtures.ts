// Set-up shared by the delivery-as-files tests: the operator (from source, on this network
// namespace's host side) serving the webhook on 127.0.0.1 for the apiserver and the agents on the
// pod network's gateway 10.244.0.1, a MutatingWebhookConfiguration scoped to the test namespace,
// and helpers to read what pods see. Pods run the operator's image (`make image`) as their agent.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { freePort, prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { OPERATOR_IMAGE, requireNode } from '../support/node-pods.js';
import { ROOT_TOKEN, type VaultPeer } from '../peers/vault/vault-peer.js';

/** The pod network's gateway: the host side of the test's private network namespace. */
export const GATEWAY = '10.244.0.1';
export const MOUNT = '/var/run/secrets/lockstep';

export interface FilesScenario {
  cluster: TestCluster;
  ns: string;
  op: RunningOperator;
  port: number;
  webhook: string;
  /** Restarts the operator with the same flags (after a kill). */
  restart(): Promise<RunningOperator>;
  cleanup(): Promise<void>;
}

/** A SecretStore on the OpenBao peer (token auth; the token is not a value we deliver). */
export function storeYaml(ns: string, endpoint: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bao-token', namespace: ns }, stringData: { token: ROOT_TOKEN } },
    {
      apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'vault', namespace: ns },
      spec: { provider: { vault: { server: endpoint, path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'bao-token', key: 'token' } } } } },
    },
  ] });
}

/** Changes the value in OpenBao: nothing in Kubernetes changes, so only a refresh can find it. */
export async function writeValue(peer: VaultPeer, password: string): Promise<void> {
  await peer.admin('POST', 'secret/data/db/creds', { data: { user: 'app', password } });
}

export function filesExternalSecret(ns: string, name: string, consumers: string[], refresh = '2s'): string {
  return JSON.stringify({
    apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', metadata: { name, namespace: ns },
    spec: {
      secretStoreRef: { name: 'vault' }, refreshInterval: refresh,
      target: { delivery: 'Files', files: { consumers: { serviceAccounts: consumers } } },
      data: [{ secretKey: 'password', remoteRef: { key: 'db/creds', property: 'password' } }],
    },
  });
}

export async function startFilesScenario(prefix: string, opts: { agentPort?: number; extraArgs?: string[]; leaderElect?: boolean } = {}): Promise<FilesScenario> {
  const cluster = loadTestCluster();
  await requireNode(cluster);
  const ns = await cluster.createNamespace(prefix);
  await prepareCluster(cluster.kubeconfigPath, ns);
  const port = await freePort();
  const webhook = `lockstep-${ns}`;
  const args = [
    '--files-addr', `0.0.0.0:${port}`,
    '--files-hosts', `${GATEWAY},127.0.0.1`,
    '--agent-url', `https://${GATEWAY}:${opts.agentPort ?? port}`,
    '--agent-image', OPERATOR_IMAGE,
    '--files-secret', 'lockstep-webhook-tls',
    '--webhook-config', webhook,
    '--rollout-min-interval', '0s',
    '--rollout-window', '1s',
    ...(opts.extraArgs ?? []),
  ];
  const start = () => startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: ns, namespace: ns, extraArgs: args, leaderElect: opts.leaderElect, identity: opts.leaderElect ? 'replica-a' : undefined });
  await cluster.kubectl(['apply', '-f', '-'], webhookConfig(webhook, ns, port));
  await cluster.kubectl(['create', 'serviceaccount', 'billing', '-n', ns]);
  await cluster.kubectl(['create', 'serviceaccount', 'intruder', '-n', ns]);
  const scenario: FilesScenario = {
    cluster, ns, port, webhook,
    op: await start(),
    async restart() {
      scenario.op = await start();
      return scenario.op;
    },
    async cleanup() {
      await scenario.op.stop('SIGKILL');
      await cluster.kubectl(['delete', 'mutatingwebhookconfiguration', webhook, '--ignore-not-found']);
      await cluster.kubectl(['delete', 'pods,deployments', '--all', '-n', ns, '--grace-period=0', '--force', '--wait=false']).catch(() => undefined);
      await cluster.deleteNamespace(ns);
    },
  };
  // The operator puts its CA into the configuration: admission works from then on.
  await eventually(async () => (await cluster.kubectl(['get', 'mutatingwebhookconfiguration', webhook, '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}'])).length > 100,
    30_000, 'the operator to set the caBundle');
  return scenario;
}

/** Sent to the operator only for labelled pods of this namespace: other tests' pods never see it. */
export function webhookConfig(name: string, ns: string, port: number): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name },
    webhooks: [{
      name: 'inject.lockstep.dev',
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      reinvocationPolicy: 'Never',
      timeoutSeconds: 10,
      clientConfig: { url: `https://127.0.0.1:${port}/mutate` },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
      objectSelector: { matchLabels: { 'lockstep.dev/inject': 'true' } },
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
    }],
  });
}

/** A pod template's metadata and spec for an app that prints the password whenever it changes. */
export function appTemplate(opts: { app: string; secrets: string; mode: 'init' | 'sidecar'; serviceAccount: string; pollSeconds?: number }) {
  const loop = `last=; while true; do v=$(cat ${MOUNT}/db/password 2>/dev/null); ` +
    `if [ "$v" != "$last" ]; then echo "value=$v"; last=$v; fi; sleep ${opts.pollSeconds ?? 0.1}; done`;
  return {
    metadata: {
      labels: { app: opts.app, 'lockstep.dev/inject': 'true' },
      annotations: { 'lockstep.dev/inject': opts.secrets, 'lockstep.dev/inject-mode': opts.mode },
    },
    spec: {
      serviceAccountName: opts.serviceAccount,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', image: 'localhost/lockstep/busybox:1', imagePullPolicy: 'Never', command: ['sh', '-c', loop] }],
    },
  };
}

export function podYaml(ns: string, name: string, template: ReturnType<typeof appTemplate>): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, ...template.metadata },
    spec: template.spec,
  });
}

export function deploymentYaml(ns: string, name: string, template: ReturnType<typeof appTemplate>): string {
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
    spec: { replicas: 1, selector: { matchLabels: { app: template.metadata.labels.app } }, template },
  });
}

/** Every key and value etcd holds under /registry, raw, through etcd's own v3 API (what etcdctl get --prefix reads). */
export async function etcdDump(cluster: TestCluster): Promise<{ key: string; value: Buffer }[]> {
  const dir = cluster.dir;
  if (!dir) throw new Error('needs the harness cluster');
  const pids = JSON.parse(await readFile(join(dir, 'pids.json'), 'utf8')) as Record<string, number>;
  const cmdline = (await readFile(`/proc/${pids['etcd']}/cmdline`, 'utf8')).split('\0');
  const url = cmdline.find((a) => a.startsWith('--listen-client-urls='))?.split('=')[1];
  if (!url) throw new Error('cannot find etcd\'s client URL');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const res = await fetch(`${url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64('/registry'), range_end: b64('/registry0') }) });
  const body = await res.json() as { kvs?: { key: string; value?: string }[]; count?: string };
  return (body.kvs ?? []).map((kv) => ({ key: Buffer.from(kv.key, 'base64').toString('utf8'), value: Buffer.from(kv.value ?? '', 'base64') }));
}

/** A TCP relay the test can cut: the agents' way to the operator. */
export async function startRelay(listenPort: number, targetPort: number): Promise<{ open: boolean; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { open: true };
  const server: Server = createServer((client) => {
    if (!state.open) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((ok) => server.listen(listenPort, '0.0.0.0', () => ok()));
  return {
    get open() { return state.open; },
    set open(v: boolean) {
      state.open = v;
      if (!v) for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Lines `value=...` an app printed, with the runtime's timestamp of each (nanoseconds, written when printed). */
export async function valueLines(cluster: TestCluster, ns: string, pod: string): Promise<{ at: number; value: string }[]> {
  const out = await cluster.kubectl(['logs', '-n', ns, pod, '-c', 'app', '--timestamps']);
  return out.split('\n').flatMap((line) => {
    const m = /^(\S+) value=(.*)$/.exec(line);
    return m ? [{ at: Date.parse(m[1] as string), value: m[2] as string }] : [];
  });
}

/** Another operator replica (leader election on, so it stands by) serving files on `port`. */
export async function startStandbyReplica(s: FilesScenario, port: number): Promise<RunningOperator> {
  return startOperator({
    kubeconfigPath: s.cluster.kubeconfigPath, operatorNamespace: s.ns, namespace: s.ns, leaderElect: true, identity: 'replica-b',
    extraArgs: [
      '--files-addr', `0.0.0.0:${port}`, '--files-hosts', `${GATEWAY},127.0.0.1`, '--agent-url', `https://${GATEWAY}:${port}`,
      '--agent-image', OPERATOR_IMAGE, '--files-secret', 'lockstep-webhook-tls', '--webhook-config', s.webhook,
    ],
  });
}

/**
 * One sidecar agent's memory, read on the node, in MB. From /proc/PID/status of the agent process:
 * `rss` (VmRSS) = `anon` (RssAnon: private to this agent) + `file` (RssFile: mapped pages of the
 * Node binary and its libraries, one copy in the page cache for every agent on the node) + `shmem`.
 * From the memory cgroup of its container (what the kubelet reports): `usage` (v1
 * memory.usage_in_bytes, v2 memory.current: anon, page cache first touched by this container,
 * kernel memory), `workingSet` (usage less inactive file pages: what `kubectl top` and the
 * eviction manager use), and that cgroup's own `cgAnon` and `cgFile`.
 */
export interface AgentMemory {
  pid: number;
  threads: number;
  rss: number; anon: number; file: number; shmem: number;
  usage?: number; workingSet?: number; cgAnon?: number; cgFile?: number;
}

/** Every `--mode watch` agent on this node (their pods' network namespaces differ; /proc and the cgroups are the node's). */
export async function sidecarAgentMemory(): Promise<AgentMemory[]> {
  const out: AgentMemory[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes('/app/agent.mjs') || !cmd.split('\0').includes('watch')) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const field = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    out.push({
      pid: Number(pid), threads: field('Threads'),
      rss: field('VmRSS') / 1024, anon: field('RssAnon') / 1024, file: field('RssFile') / 1024, shmem: field('RssShmem') / 1024,
      ...await cgroupMemory(pid),
    });
  }
  return out;
}

async function cgroupMemory(pid: string): Promise<Partial<AgentMemory>> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '')).split('\n');
  const mb = (n: number | undefined) => (n ?? 0) / 1048576;
  const v1 = lines.find((l) => /^\d+:memory:/.test(l))?.split(':')[2];
  if (v1) {
    const base = `/sys/fs/cgroup/memory${v1}`;
    const usage = Number(await readFile(`${base}/memory.usage_in_bytes`, 'utf8').catch(() => NaN));
    const stat = parseStat(await readFile(`${base}/memory.stat`, 'utf8').catch(() => ''));
    if (Number.isNaN(usage)) return {};
    return { usage: mb(usage), workingSet: mb(Math.max(0, usage - (stat['total_inactive_file'] ?? 0))), cgAnon: mb(stat['rss']), cgFile: mb(stat['cache']) };
  }
  const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3);
  if (!v2) return {};
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const usage = Number(await readFile(`${root}${v2}/memory.current`, 'utf8').catch(() => NaN));
    if (Number.isNaN(usage)) continue;
    const stat = parseStat(await readFile(`${root}${v2}/memory.stat`, 'utf8').catch(() => ''));
    return { usage: mb(usage), workingSet: mb(Math.max(0, usage - (stat['inactive_file'] ?? 0))), cgAnon: mb(stat['anon']), cgFile: mb(stat['file']) };
  }
  return {};
}

function parseStat(text: string): Record<string, number> {
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => { const [k, v] = l.split(' '); return [k ?? '', Number(v)]; }));
}

/** One line per agent, for the figures the tests and the benchmark print. */
export function formatAgentMemory(m: AgentMemory): string {
  const f = (n: number | undefined) => (n === undefined ? '?' : n.toFixed(1));
  return `RSS ${f(m.rss)} MB (private ${f(m.anon)}, file-backed ${f(m.file)}, shmem ${f(m.shmem)}), ${m.threads} threads; ` +
    `container cgroup: usage ${f(m.usage)} MB, working set ${f(m.workingSet)} MB (anon ${f(m.cgAnon)}, page cache ${f(m.cgFile)})`;
}
