// Provider trouble, every provider, on its real server or double (issue 12, point 4). One operator
// (a short --provider-timeout) syncs a few ExternalSecrets from each of four stores with a tight
// rateLimit: AWS Secrets Manager on moto, Vault on OpenBao, GCP Secret Manager on our gRPC peer,
// Azure Key Vault on our double. For each fault — the provider's own throttling answer with its
// retry hint, 5xx, answers slower than the deadline, an untrusted TLS certificate, credentials
// revoked — injected into all four stores at once, while the remote values have just changed:
// - every Secret stays exactly as it was (same data, same resourceVersion);
// - every ExternalSecret goes Ready=False, reason ProviderError, with a message that says why and
//   holds no secret value;
// - the calls that reach the provider (counted at the peer or the proxy in front of it) stay
//   within the store's budget, qps × seconds + burst: no retry storm;
// - once the fault is removed, each ExternalSecret recovers by itself (Ready=True, new values).
// Figures (calls during the fault, the budget, time to recover) are printed per provider and fault.
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf, type Condition } from '../support/resources.js';
import { makeCertificate } from './provider-proxies.js';
import { awsSubject, azureSubject, FAULTS, gcpSubject, vaultSubject, type FaultName, type Subject, type SubjectContext } from './provider-subjects.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.METADATA_SERVER_DETECTION = 'none';

const RATE = { qps: 1, burst: 3 };
const KEYS = 4;
/** How long each fault is held after it is injected. */
const HOLD_MS = 12_000;
const PROVIDER_TIMEOUT = '5s';

let cluster: TestCluster;
let ns: string;
let opNs: string;
let op: RunningOperator;
let subjects: Subject[] = [];

interface Figure {
  provider: string;
  fault: FaultName;
  what: string;
  seconds: number;
  calls: number;
  budget: number;
  operatorCalls: number;
  detectedMs: number;
  recoveredMs: number;
  message: string;
}
const figures: Figure[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const names = (s: Subject) => [...s.refs.keys()];

async function readiness(s: Subject): Promise<Condition[]> {
  return Promise.all(names(s).map(async (n) => readyOf(await getJson(cluster, 'externalsecret', ns, n)) ?? { type: 'Ready', status: 'Unknown', reason: '', message: '' }));
}

async function secrets(s: Subject): Promise<Map<string, { data: Record<string, string>; resourceVersion: string }>> {
  const out = new Map<string, { data: Record<string, string>; resourceVersion: string }>();
  for (const n of names(s)) {
    const secret = await getJson(cluster, 'secret', ns, n);
    out.set(n, { data: decodeData(secret), resourceVersion: secret?.metadata.resourceVersion ?? '' });
  }
  return out;
}

/** Ready=True and every Secret holds the value the provider has now. */
async function synced(s: Subject): Promise<boolean> {
  const notReady = (await readiness(s)).find((c) => c.status !== 'True');
  // Thrown, so that a timeout says where it stands.
  if (notReady) throw new Error(`Ready=${notReady.status} ${notReady.reason}: ${notReady.message}`);
  const now = await secrets(s);
  const stale = names(s).find((n) => now.get(n)?.data.value !== s.expected.get(n));
  if (stale) throw new Error(`Secret ${stale} does not hold the provider's current value yet`);
  return true;
}

async function forceSync(s: Subject): Promise<void> {
  await cluster.kubectl(['-n', ns, 'annotate', 'externalsecret', ...names(s), `lockstep.dev/force-sync=${Date.now()}`, '--overwrite']);
}

const storeLabel = (s: Subject) => `SecretStore/${ns}/${s.storeName}`;

/** One fault on one provider, from injection to recovery; throws with the provider's name on a broken promise. */
async function runFault(s: Subject, fault: FaultName): Promise<Figure> {
  const plan = s.faults[fault];
  const where = `${s.provider} / ${fault}`;
  await s.rotate(); // the provider has new values the operator has not read yet
  await plan.inject();
  try {
    return await underFault(s, fault, where);
  } finally {
    await plan.clear(); // idempotent: a failed check must not leave the fault for the next phase
  }
}

async function underFault(s: Subject, fault: FaultName, where: string): Promise<Figure> {
  const plan = s.faults[fault];
  const t0 = Date.now();
  const calls0 = await s.calls();
  const connections0 = s.connections();
  const operator0 = await op.counter('lockstep_provider_requests_total', { store: storeLabel(s) });
  const before = await secrets(s);
  await forceSync(s);

  const down = await eventually(async () => {
    const conditions = await readiness(s);
    return conditions.every((c) => c.status === 'False') ? conditions : undefined;
  }, 60_000, `${where}: every ExternalSecret Ready=False`);
  const detectedMs = Date.now() - t0;
  for (const c of down) {
    if (c.reason !== 'ProviderError') throw new Error(`${where}: reason ${c.reason}, expected ProviderError (${c.message})`);
    if (!plan.message.test(c.message)) throw new Error(`${where}: the message does not say why (${plan.message}): ${c.message}`);
    const leaks = findLeaks(c.message, s.values);
    if (leaks.length > 0) throw new Error(`${where}: the message holds a secret value: ${c.message}`);
  }

  await sleep(t0 + HOLD_MS - Date.now());
  const after = await secrets(s);
  for (const [n, was] of before) {
    const now = after.get(n);
    if (JSON.stringify(now?.data) !== JSON.stringify(was.data) || now?.resourceVersion !== was.resourceVersion) {
      throw new Error(`${where}: Secret ${n} changed during the fault (resourceVersion ${was.resourceVersion} → ${now?.resourceVersion})`);
    }
  }
  const t1 = Date.now();
  // During a TLS failure nothing reaches the peer: each attempt is a connection to the endpoint.
  const calls = (await s.calls()) - calls0 + (fault === 'TLS failure' ? s.connections() - connections0 : 0);
  const operatorCalls = (await op.counter('lockstep_provider_requests_total', { store: storeLabel(s) })) - operator0;
  const seconds = (t1 - t0) / 1000;
  const budget = Math.floor(RATE.qps * seconds + RATE.burst);
  if (calls > budget) throw new Error(`${where}: ${calls} calls reached the provider in ${seconds.toFixed(1)} s, over the budget of ${budget}`);

  await plan.clear();
  const cleared = Date.now();
  await eventually(() => synced(s), 120_000, `${where}: recovery after the fault is removed`);
  return {
    provider: s.provider, fault, what: plan.what, seconds, calls, budget, operatorCalls, detectedMs,
    recoveredMs: Date.now() - cleared, message: down[0]?.message.slice(0, 160) ?? '',
  };
}

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('provider-faults');
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  const [trusted, rogue] = await Promise.all([makeCertificate('trusted'), makeCertificate('rogue')]);
  const ctx: SubjectContext = { cluster, namespace: ns, rateLimit: RATE, trusted, rogue, keys: KEYS };
  // PROVIDER_FAULTS=aws,vault runs some of them only (while working on one).
  const only = process.env.PROVIDER_FAULTS?.split(',');
  const all = { aws: awsSubject, vault: vaultSubject, gcp: gcpSubject, azure: azureSubject };
  const started = await Promise.allSettled(Object.entries(all).filter(([p]) => !only || only.includes(p)).map(([, make]) => make(ctx)));
  subjects = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;

  // The AWS store has no caBundle: the operator trusts the proxy's test CA the way a user trusts a
  // private CA for AWS endpoints, through NODE_EXTRA_CA_CERTS.
  const caFile = join(await mkdtemp(join(tmpdir(), 'lockstep-faults-ca-')), 'ca.pem');
  await writeFile(caFile, trusted.caPem);
  process.env.NODE_EXTRA_CA_CERTS = caFile;
  try {
    op = await startOperator({
      kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns,
      extraArgs: ['--provider-timeout', PROVIDER_TIMEOUT, '--error-requeue', '4s'],
    });
  } finally {
    delete process.env.NODE_EXTRA_CA_CERTS;
  }
  for (const s of subjects) await apply(cluster, s.store);
  // A store whose first validation fails transiently (a cold client missing the short deadline on
  // two busy cores) is validated again with backoff, not after --store-revalidate (10 min).
  await Promise.all(subjects.map((s) => eventually(async () =>
    readyOf(await getJson(cluster, 'secretstore', ns, s.storeName))?.status === 'True', 120_000, `${s.provider}: store Ready`)));
  for (const s of subjects) {
    for (const [name, ref] of s.refs) {
      await apply(cluster, externalSecret(ns, name, {
        secretStoreRef: { name: s.storeName }, refreshInterval: '30s',
        data: [{ secretKey: 'value', remoteRef: ref }],
      }));
    }
  }
  await Promise.all(subjects.map((s) => eventually(() => synced(s), 120_000, `${s.provider}: first sync`)));
}, 900_000);

afterAll(async () => {
  await op?.stop();
  if (process.env.LOCKSTEP_DEBUG) await writeFile('/tmp/operator-provider-faults.log', op?.output() ?? '');
  await Promise.allSettled(subjects.map((s) => s.close()));
  if (figures.length > 0) {
    console.log(['provider | fault | held s | calls at peer | budget | operator calls | Ready=False after ms | recovered after ms',
      ...figures.map((f) => `${f.provider} | ${f.fault} | ${f.seconds.toFixed(1)} | ${f.calls} | ${f.budget} | ${f.operatorCalls} | ${f.detectedMs} | ${f.recoveredMs}`)].join('\n'));
  }
  await cluster?.deleteNamespace(ns);
  await cluster?.deleteNamespace(opNs);
}, 60_000);

/**
 * Cases this file cannot run yet (`provider/fault` → the reason), printed on every run. None now:
 * AWS revocation needed the fixture's IAM calls signed as SigV4 encodes `*`, and Vault revocation
 * needed the operator to stop retrying a refused AppRole login at every reconcile (OpenBao locked
 * the role out after 5 failures, so even the reissued SecretID was refused).
 */
const OPEN: Partial<Record<string, string>> = {};

describe('provider trouble on every provider', () => {
  it.each(FAULTS)('%s: the Secret is kept, Ready=False says why, the budget holds, and it recovers by itself', async (fault) => {
    const open = subjects.filter((s) => OPEN[`${s.provider}/${fault}`] !== undefined);
    for (const s of open) console.log(`not run: ${s.provider} ${fault}: ${OPEN[`${s.provider}/${fault}`]}`);
    const results = await Promise.allSettled(subjects.filter((s) => !open.includes(s)).map((s) => runFault(s, fault)));
    const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    figures.push(...done);
    console.log(done.map((f) => `${f.provider} ${f.fault} (${f.what}): ${f.calls} calls in ${f.seconds.toFixed(1)} s (budget ${f.budget}, operator ${f.operatorCalls}), ` +
      `Ready=False after ${f.detectedMs} ms, recovered ${f.recoveredMs} ms after removal; "${f.message}"`).join('\n'));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
    expect(errors).toEqual([]);
  }, 240_000);

  it('never prints a secret value or a credential', () => {
    expect(findLeaks(op.output(), subjects.flatMap((s) => s.values))).toEqual([]);
  });
});
