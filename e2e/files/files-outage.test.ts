// Issue 9, failure behaviour: the agents' way to the operator is cut (a TCP relay the test
// controls) when a pod starts: the init agent retries with backoff and says so, and the app starts
// once the operator answers again. Then the provider goes down under a running sidecar: the files
// stay as they were. Also measures the agent's memory on the node.
import { readFile } from 'node:fs/promises';
import { AGENT_NODE_FLAGS } from '../../src/delivery/pod-injector.js';
import { eventually } from '../harness/cluster.js';
import { freePort } from '../support/operator.js';
import { exec, isReady, pods } from '../support/node-pods.js';
import { startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import {
  appTemplate, filesExternalSecret, formatAgentMemory, MOUNT, podYaml, sidecarAgentMemory, startFilesScenario, startRelay, storeYaml, writeValue, type FilesScenario,
} from './files-fixtures.js';

let s: FilesScenario;
let peer: VaultPeer;
let relay: Awaited<ReturnType<typeof startRelay>>;

beforeAll(async () => {
  peer = await startVaultPeer();
  await writeValue(peer, 'outage-pw-1');
  const agentPort = await freePort();
  s = await startFilesScenario('files-outage', { agentPort });
  relay = await startRelay(agentPort, s.port);
  await s.cluster.kubectl(['apply', '-f', '-'], storeYaml(s.ns, peer.endpoint));
  await s.cluster.kubectl(['apply', '-f', '-'], filesExternalSecret(s.ns, 'db', ['billing']));
}, 120_000);

afterAll(async () => {
  await relay?.close();
  await s?.cleanup();
  await peer?.stop();
}, 60_000);

describe('delivery as files when things fail', () => {
  it('operator unreachable at pod start: the init agent retries and logs why; the app starts once it answers', async () => {
    relay.open = false;
    await s.cluster.kubectl(['apply', '-f', '-'], podYaml(s.ns, 'late', appTemplate({ app: 'late', secrets: 'db', mode: 'sidecar', serviceAccount: 'billing' })));
    const retried = await eventually(async () => {
      const log = await s.cluster.kubectl(['logs', '-n', s.ns, 'late', '-c', 'lockstep-agent-init']).catch(() => '');
      return (log.match(/cannot reach the operator; retrying/g)?.length ?? 0) >= 2 && log;
    }, 60_000, 'the init agent to retry twice');
    expect(retried).toContain('"attempt":2');
    expect((await pods(s.cluster, s.ns, 'app=late'))[0]?.status.phase).toBe('Pending');
    relay.open = true;
    await eventually(async () => (await pods(s.cluster, s.ns, 'app=late')).some(isReady), 90_000, 'the app to start once the operator answers');
    expect((await exec(s.cluster, s.ns, 'late', ['cat', `${MOUNT}/db/password`])).trim()).toBe('outage-pw-1');
  }, 200_000);

  it('provider down under a running sidecar: the files stay, and the next change arrives once it is back', async () => {
    await peer.stop();
    await new Promise((r) => setTimeout(r, 8000)); // several refreshes fail
    expect((await exec(s.cluster, s.ns, 'late', ['cat', `${MOUNT}/db/password`])).trim()).toBe('outage-pw-1');
    await peer.start();
    await writeValue(peer, 'outage-pw-2');
    await eventually(async () => (await exec(s.cluster, s.ns, 'late', ['cat', `${MOUNT}/db/password`])).trim() === 'outage-pw-2', 60_000, 'the new value after the provider is back');
  }, 120_000);

  it('reports the sidecar agent\'s memory', async () => {
    const agents = await sidecarAgentMemory();
    expect(agents.length).toBeGreaterThan(0);
    for (const m of agents) console.log(`[files figures] sidecar agent memory: ${formatAgentMemory(m)}`);
    for (const m of agents) {
      // The injected flags reached the process (pod-injector AGENT_NODE_FLAGS).
      expect((await readFile(`/proc/${m.pid}/cmdline`, 'utf8')).split('\0')).toEqual(expect.arrayContaining(AGENT_NODE_FLAGS));
      // The private part is what each pod adds: ~12 MB measured with the flags (~14 without); the
      // file-backed part (~43 MB) is the Node binary, one copy in the page cache for the node.
      expect(m.anon).toBeLessThan(16);
      expect(m.rss).toBeLessThan(64);
    }
  });
});
