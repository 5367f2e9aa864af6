// `make bench-files`: delivery as files at 100 pods. A real control plane and the local node (in a
// private network namespace, like `make test-e2e`), the OpenBao peer, and the operator from source
// serving the webhook and the agents. One ExternalSecret (delivery Files, refresh 5 s) injected in
// sidecar mode into a Deployment of N pods. Once all are Ready, the value is changed R times in
// OpenBao; the benchmark counts the operator's provider reads (lockstep_provider_requests_total)
// per refresh, the time from each change to the new files in every pod (the runtime's timestamp of
// each agent's "files updated" log line), and the agents' memory on the node.
//
//   bash scripts/netns.sh run -- node_modules/.bin/tsx bench/files-bench.ts [--pods 100] [--rotations 5]
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../e2e/harness/control-plane.js';
import { inPrivateNetns, operatorAndTestImages, startNode } from '../e2e/harness/node.js';
import { kubectl } from '../e2e/harness/cluster.js';
import { startVaultPeer } from '../e2e/peers/vault/vault-peer.js';
import {
  appTemplate, deploymentYaml, filesExternalSecret, sidecarAgentMemory, startFilesScenario, storeYaml, writeValue, type AgentMemory,
} from '../e2e/files/files-fixtures.js';
import { logger, printTables, quantile, seconds, sleep, target } from './lib2/util.js';

const log = logger('files-bench');
const REFRESH_MS = 5000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pods: { type: 'string', default: '100' }, rotations: { type: 'string', default: '5' } } });
  const podCount = Number(values.pods);
  const rotations = Number(values.rotations);
  if (!inPrivateNetns()) throw new Error('run me in a private network namespace: bash scripts/netns.sh run -- node_modules/.bin/tsx bench/files-bench.ts');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-files-bench-'));
  const cp = await startControlPlane({ dir });
  const node = await startNode({ clusterDir: cp.dir, kubeconfigPath: cp.kubeconfigPath, apiserverPort: Number(new URL(cp.server).port), images: await operatorAndTestImages() });
  const peer = await startVaultPeer();
  // Interrupted: still stop the pods, the node and the control plane (nothing may be left behind).
  const onSignal = () => {
    log('interrupted: stopping the node and the control plane');
    void Promise.allSettled([peer.stop(), node.stop().then(() => cp.stop())]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.env.LOCKSTEP_KUBECONFIG = cp.kubeconfigPath;
  process.env.LOCKSTEP_CLUSTER_DIR = cp.dir;
  await kubectl(cp.kubeconfigPath, ['apply', '--server-side', '-f', join(import.meta.dirname, '../crds')]);
  try {
    await writeValue(peer, 'bench-0');
    const s = await startFilesScenario('files-bench', { extraArgs: ['--log-level', 'info'] });
    await s.cluster.kubectl(['apply', '-f', '-'], storeYaml(s.ns, peer.endpoint));
    await s.cluster.kubectl(['apply', '-f', '-'], filesExternalSecret(s.ns, 'db', ['billing'], `${REFRESH_MS / 1000}s`));
    const deploy = JSON.parse(deploymentYaml(s.ns, 'app', appTemplate({ app: 'app', secrets: 'db', mode: 'sidecar', serviceAccount: 'billing', pollSeconds: 5 }))) as { spec: { replicas: number } };
    deploy.spec.replicas = podCount;
    const started = Date.now();
    await s.cluster.kubectl(['apply', '-f', '-'], JSON.stringify(deploy));
    await waitFor(async () => (await readyPods(s.cluster.kubectl, s.ns)).length === podCount, 900_000, `${podCount} Ready pods`);
    const allReadyMs = Date.now() - started;
    log(`${podCount} pods Ready in ${seconds(allReadyMs)} s`);
    const reads = async () => s.op.counter('lockstep_provider_requests_total', { operation: 'getSecret' }) ;
    await sleep(2 * REFRESH_MS);
    const before = await reads();
    const window0 = Date.now();
    const latencies: number[] = [];
    // From the first pod's write to the last pod's: the agents' fan-out, without the refresh phase.
    const spreads: number[] = [];
    for (let i = 1; i <= rotations; i++) {
      const value = `bench-${i}`;
      const changedAt = Date.now();
      await writeValue(peer, value);
      const seen = await waitFor(async () => {
        const names = await readyPods(s.cluster.kubectl, s.ns);
        const times = await Promise.all(names.map((p) => firstSeen(s.cluster.kubectl, s.ns, p, i)));
        return times.every((t) => t !== undefined) && (times as number[]);
      }, 120_000, `value ${i} in every pod`);
      latencies.push(...seen.map((t) => t - changedAt));
      spreads.push(Math.max(...seen) - Math.min(...seen));
      log(`rotation ${i}: in all ${seen.length} pods after ${Math.max(...seen) - changedAt} ms (first to last pod ${spreads.at(-1)} ms)`);
    }
    const windowMs = Date.now() - window0;
    const providerReads = (await reads()) - before;
    const refreshes = windowMs / REFRESH_MS;
    const memory = await agentMemory();
    const figures = [
      ['pods (sidecar mode)', String(podCount), 'one Deployment, one ExternalSecret, refresh 5 s'],
      ['pods Ready', `${seconds(allReadyMs)} s`, 'create to all Ready (init agent included)'],
      ['provider reads (getSecret)', String(providerReads), `over ${seconds(windowMs)} s = ${refreshes.toFixed(1)} refresh intervals, ${rotations} changes`],
      ['provider reads per refresh', (providerReads / refreshes).toFixed(2), 'all pods share the leader\'s reads'],
      ['change → files written, p50 / p99 / max', `${quantile(latencies, 0.5)} / ${quantile(latencies, 0.99)} / ${Math.max(...latencies)} ms`, `${latencies.length} pod updates`],
      ['first → last pod of a change, p50 / max', `${quantile(spreads, 0.5)} / ${Math.max(...spreads)} ms`, 'the 100 agents\' fan-out, without the refresh phase'],
      ['agent RSS, mean', `${memory.rss.toFixed(1)} MB`, `${memory.count} sidecar agents`],
      ['agent private memory, mean', `${memory.anon.toFixed(1)} MB`, 'RssAnon: what each pod adds'],
      ['agent file-backed memory, mean', `${memory.file.toFixed(1)} MB`, 'the Node binary\'s pages, shared by all agents'],
      ['agent container cgroup, mean usage / working set', `${memory.usage.toFixed(1)} / ${memory.workingSet.toFixed(1)} MB`, `working set is what kubectl top shows; anon ${memory.cgAnon.toFixed(1)} MB`],
    ];
    printTables(`delivery as files, ${podCount} pods`, figures, [
      target('provider reads per refresh', Number((providerReads / refreshes).toFixed(2)), '<=', 1.2),
      target('p99 change → files written (ms)', quantile(latencies, 0.99), '<=', REFRESH_MS + 2000),
      target('agent private memory (MB)', Number(memory.anon.toFixed(1)), '<=', 40),
    ]);
    await s.cleanup();
  } finally {
    await peer.stop();
    await node.stop();
    await cp.stop();
  }
}

async function readyPods(run: (args: string[]) => Promise<string>, ns: string): Promise<string[]> {
  const list = JSON.parse(await run(['get', 'pods', '-n', ns, '-l', 'app=app', '-o', 'json'])) as { items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[] };
  return list.items.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => p.metadata.name);
}

/**
 * When the pod's agent wrote the files of rotation `i` (its i+1-th write: the init agent's first
 * write is in another container), from the runtime's timestamp of the agent's log line. The app
 * checks only every 5 s here: 100 shells polling faster would load the 2 cores more than the
 * operator and the agents do.
 */
async function firstSeen(run: (args: string[]) => Promise<string>, ns: string, pod: string, i: number): Promise<number | undefined> {
  const out = await run(['logs', '-n', ns, pod, '-c', 'lockstep-agent', '--timestamps']).catch(() => '');
  const writes = out.split('\n').filter((l) => l.includes('"msg":"files updated"') || l.includes('"msg":"files written"'));
  const line = writes[i];
  return line ? Date.parse(line.split(' ')[0] ?? '') : undefined;
}

/** The sidecar agents' memory on the node: means over the agents (see sidecarAgentMemory). */
async function agentMemory(): Promise<{ count: number; rss: number; anon: number; file: number; usage: number; workingSet: number; cgAnon: number }> {
  const rows = await sidecarAgentMemory();
  const mean = (f: (m: AgentMemory) => number | undefined) => rows.reduce((a, m) => a + (f(m) ?? 0), 0) / Math.max(1, rows.length);
  return {
    count: rows.length, rss: mean((m) => m.rss), anon: mean((m) => m.anon), file: mean((m) => m.file),
    usage: mean((m) => m.usage), workingSet: mean((m) => m.workingSet), cgAnon: mean((m) => m.cgAnon),
  };
}

async function waitFor<T>(fn: () => Promise<T | false | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
