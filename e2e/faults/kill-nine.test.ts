// kill -9 at random moments: the operator is SIGKILLed again and again (a seeded schedule) while
// 2,000 ExternalSecrets sync for the first time and while 100 of them rotate twice, each with a
// consuming Deployment. At the end every Secret holds the latest value, no Secret was ever deleted
// or written empty (every Secret event is watched), and each consumer was restarted exactly once
// per real change: no rollout lost, none doubled. `make chaos` runs the same test longer
// (LOCKSTEP_KILL_ROUNDS rotations, LOCKSTEP_KILLS_PER_PHASE kills in each phase, another seed).
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { watchSecrets, type SecretWatch } from '../support/secret-watch.js';

const N = 2000;
const ROTATING = 100;
/** Rotations after the first sync; each is a phase of kills, as the first sync is. */
const ROUNDS = Number(process.env.LOCKSTEP_KILL_ROUNDS ?? 2);
const KILLS_PER_PHASE = Number(process.env.LOCKSTEP_KILLS_PER_PHASE ?? 4);   // three phases: at least 12 kills
const SEED = Number(process.env.LOCKSTEP_KILL_SEED ?? 20261202);

let cluster: TestCluster;
let ns: string;
let opNs: string;
let op: RunningOperator | undefined;
let watch: SecretWatch;
let kills = 0;

/** Deterministic pseudo-random numbers (mulberry32), so a failing schedule can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(SEED);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const value = (i: number, round: number) => (i < ROTATING ? `kill-e2e-${i}-r${round}` : `kill-e2e-${i}`);
const storeManifest = (round: number) => JSON.stringify({
  apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'many', namespace: ns },
  spec: { refreshInterval: '1h', provider: { fake: { data: Array.from({ length: N }, (_, i) => ({ key: `k${i}`, value: value(i, round) })) } } },
});
const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const externalSecrets = () => list(Array.from({ length: N }, (_, i) => ({
  apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', metadata: { name: `es${i}`, namespace: ns },
  spec: { secretStoreRef: { name: 'many' }, refreshInterval: '1h', data: [{ secretKey: 'v', remoteRef: { key: `k${i}` } }] },
})));
const consumers = () => list(Array.from({ length: ROTATING }, (_, i) => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: `app${i}`, namespace: ns, annotations: { 'lockstep.dev/restart-on': 'auto' } },
  spec: {
    replicas: 0, selector: { matchLabels: { app: `app${i}` } },
    template: { metadata: { labels: { app: `app${i}` } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1',
      env: [{ name: 'V', valueFrom: { secretKeyRef: { name: `es${i}`, key: 'v' } } }] }] } },
  },
})));

async function start(): Promise<void> {
  op = await startOperator({
    kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns,
    extraArgs: ['--rollout-window', '1s', '--rollout-min-interval', '0s', '--max-rollouts-in-flight', '1000', '--log-level', 'info'],
  });
}

/** Kills the operator with SIGKILL `times` times, each after a random 0.3–3 s of work, and restarts it. */
async function killAtRandom(times: number): Promise<void> {
  for (let k = 0; k < times; k++) {
    await sleep(300 + random() * 2700);
    await op?.stop('SIGKILL');
    kills++;
    await start();
  }
}

/** Secret name → decoded value of key `v`, for every Secret in the namespace. */
async function secretValues(): Promise<Map<string, string>> {
  const out = await cluster.kubectl(['get', 'secrets', '-n', ns, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.data.v}{"\\n"}{end}']);
  return new Map(out.split('\n').filter(Boolean).map((l) => {
    const [name = '', v = ''] = l.split(' ');
    return [name, Buffer.from(v, 'base64').toString()];
  }));
}

async function allHold(round: number): Promise<boolean> {
  const values = await secretValues();
  for (let i = 0; i < N; i++) if (values.get(`es${i}`) !== value(i, round)) return false;
  return true;
}

async function generations(): Promise<number[]> {
  const out = await cluster.kubectl(['get', 'deployments', '-n', ns, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.generation}{"\\n"}{end}']);
  const byName = new Map(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
  return Array.from({ length: ROTATING }, (_, i) => Number(byName.get(`app${i}`)));
}

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('kill');
  opNs = await cluster.createNamespace('kill-ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  watch = watchSecrets(cluster.kubeconfigPath, ns);
  await cluster.kubectl(['apply', '--server-side', '-f', '-'], consumers());
  await start();
}, 180_000);

afterAll(async () => {
  watch.stop();
  await op?.stop();
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
});

describe('kill -9 at random moments', () => {
  test(`${N} ExternalSecrets sync, ${ROTATING} rotate ${ROUNDS} times: latest values, nothing blanked, one restart per change`, async () => {
    const started = Date.now();
    await cluster.kubectl(['apply', '--server-side', '-f', '-'], storeManifest(1));
    await cluster.kubectl(['apply', '--server-side', '-f', '-'], externalSecrets());
    await killAtRandom(KILLS_PER_PHASE);
    await eventually(() => allHold(1), 240_000, 'every Secret synced (round 1)');
    const synced = Date.now();
    expect(await generations()).toEqual(Array(ROTATING).fill(1));   // a first sync is not a rotation

    const rounds = Array.from({ length: ROUNDS }, (_, i) => i + 2);
    for (const round of rounds) {
      await cluster.kubectl(['apply', '--server-side', '-f', '-'], storeManifest(round));
      await killAtRandom(KILLS_PER_PHASE);
      await eventually(() => allHold(round), 120_000, `every Secret holds round ${round}`);
      await eventually(async () => (await generations()).every((g) => g >= round), 120_000, `every consumer restarted for round ${round}`);
    }
    await sleep(5000);   // a doubled restart would show up now
    console.log(`${kills} kills (seed ${SEED}); first sync of ${N} in ${synced - started} ms; ${ROUNDS} rotations of ${ROTATING} in ${Date.now() - synced} ms`);

    expect(kills).toBeGreaterThanOrEqual(10);
    expect(await generations()).toEqual(Array(ROTATING).fill(ROUNDS + 1));
    expect(watch.harm()).toEqual([]);
    // No Secret ever went back to an older round after holding a newer one.
    const seen = new Map<string, number>();
    for (const e of watch.events) {
      const v = e.data['v'] ? Buffer.from(e.data['v'], 'base64').toString() : '';
      const round = Number(/-r(\d+)$/.exec(v)?.[1] ?? 0);
      expect(round).toBeGreaterThanOrEqual(seen.get(e.name) ?? 0);
      seen.set(e.name, round);
    }
    expect(seen.size).toBe(N);
  }, 600_000 + ROUNDS * 150_000);   // 900 s for the two rotations of `make test`
});
