// Issue 9: every operator replica serves the agents, not only the leader. The leader (replica-a)
// admits the pod and tells its agent to use replica-b, a standby; the files come from replica-b,
// and a rotation the leader finds reaches the pod through replica-b too (it re-reads once when the
// leader reports new content in status.filesHash).
import { eventually } from '../harness/cluster.js';
import { freePort, type RunningOperator } from '../support/operator.js';
import { exec, isReady, pods } from '../support/node-pods.js';
import { startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import {
  appTemplate, filesExternalSecret, MOUNT, podYaml, startFilesScenario, startStandbyReplica, storeYaml, writeValue, type FilesScenario,
} from './files-fixtures.js';

let s: FilesScenario;
let peer: VaultPeer;
let standby: RunningOperator;

beforeAll(async () => {
  peer = await startVaultPeer();
  await writeValue(peer, 'standby-pw-1');
  const standbyPort = await freePort();
  s = await startFilesScenario('files-standby', { agentPort: standbyPort, leaderElect: true });
  standby = await startStandbyReplica(s, standbyPort);
  await s.cluster.kubectl(['apply', '-f', '-'], storeYaml(s.ns, peer.endpoint));
  await s.cluster.kubectl(['apply', '-f', '-'], filesExternalSecret(s.ns, 'db', ['billing']));
}, 120_000);

afterAll(async () => {
  await standby?.stop('SIGKILL');
  await s?.cleanup();
  await peer?.stop();
}, 60_000);

it('a standby replica serves the files and the rotations the leader finds', async () => {
  const holder = await eventually(async () => (await s.cluster.kubectl(['get', 'lease', 'lockstep-controller', '-n', s.ns, '-o', 'jsonpath={.spec.holderIdentity}'])) || undefined, 30_000, 'a leader');
  expect(holder).toBe('replica-a');
  await s.cluster.kubectl(['apply', '-f', '-'], podYaml(s.ns, 'app', appTemplate({ app: 'app', secrets: 'db', mode: 'sidecar', serviceAccount: 'billing' })));
  await eventually(async () => (await pods(s.cluster, s.ns, 'app=app')).some(isReady), 90_000, 'the app Ready');
  expect((await exec(s.cluster, s.ns, 'app', ['cat', `${MOUNT}/db/password`])).trim()).toBe('standby-pw-1');
  await writeValue(peer, 'standby-pw-2');
  await eventually(async () => (await exec(s.cluster, s.ns, 'app', ['cat', `${MOUNT}/db/password`])).trim() === 'standby-pw-2', 30_000, 'the rotation through the standby');
  const served = await standby.counter('lockstep_files_requests_total', { endpoint: '/v1/files', code: '200' });
  const leaderServed = await s.op.counter('lockstep_files_requests_total', { endpoint: '/v1/files' });
  const standbyReads = await standby.counter('lockstep_provider_requests_total', { operation: 'getSecret' });
  console.log(`[files figures] standby replica: answered ${served} agent requests with files, ${standbyReads} provider reads; the leader answered ${leaderServed}`);
  expect(served).toBeGreaterThanOrEqual(2);
  expect(leaderServed).toBe(0);
  expect(standbyReads).toBeLessThanOrEqual(3); // one per change it was told of (+1 if a refresh raced), never one per pod request
}, 150_000);
