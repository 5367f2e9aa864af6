// Bad input, fuzzed (issue 12, point 6). fast-check generates ExternalSecret and store specs, valid
// ones and near misses, and applies them to the real apiserver with one operator running. Each one
// is either refused at admission with a message naming the problem, or ends with a Ready condition
// whose reason is in the README's table; the operator never exits; no object blocks the others;
// reconciles stay bounded. Then the shapes that break naive code: a Secret at the 1 MiB limit and
// just over it, 5,000 keys, arbitrary Unicode, keys Kubernetes refuses, two ExternalSecrets on one
// Secret.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { decodeData, externalSecret, getJson, readyOf, secretStore, type Condition, type FakeEntry, type ObjectJson } from '../support/resources.js';
import { anyCase, DUP_STORE, FUZZ_DATA, FUZZ_STORE, type Case } from './bad-input-cases.js';

const SEED = 20_241_206;
const BATCHES = 4;
const BATCH_SIZE = 20;
/** Every reason the README's Status table lists (ExternalSecrets), and the store reasons. */
const README_REASONS = new Set([
  'SecretSynced', 'StoreNotFound', 'StoreNotAllowed', 'StoreNotReady', 'InvalidSpec', 'RemoteSecretNotFound', 'SecretDeleted',
  'ProviderError', 'TargetConflict', 'TargetSecretMissing', 'SecretImmutable', 'SecretSyncError',
  'Valid', 'InvalidProviderConfig', 'ValidationFailed',
]);
const MIB = 1024 * 1024;

let cluster: TestCluster;
let op: RunningOperator;
let pid: number | undefined;
let ns: string;
let opNs: string;
/** Every value a store served in this file: none may appear in the operator's output. */
const served: string[] = [];
const figures = {
  generated: 0,
  rejected: new Map<string, number>(),
  reasons: new Map<string, number>(),
  reconciles: 0,
  fuzzMs: 0,
  notes: [] as string[],
};
let serial = 0;

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Server-side apply (no last-applied annotation, so big objects fit; strict field validation). */
async function applyObject(obj: unknown): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    await cluster.kubectl(['apply', '--server-side', '--field-manager=fuzz', '-f', '-'], JSON.stringify(obj));
    return { ok: true };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

function manifestOf(c: Case, name: string): Record<string, unknown> {
  const metadata = c.kind === 'ClusterSecretStore' ? { name, labels: { 'fuzz-ns': ns } } : { name, namespace: ns };
  return { apiVersion: 'lockstep.dev/v1alpha1', kind: c.kind, metadata, spec: c.spec };
}

function nameFor(c: Case): string {
  serial += 1;
  return c.kind === 'ClusterSecretStore' ? `${ns}-c${serial}` : `c${serial}`;
}


interface Applied {
  c: Case;
  name: string;
  rejection?: string;
}

/** Reads every object of the batch; a Ready condition counts once it is for the current generation. */
async function readStates(applied: Applied[]): Promise<Map<string, { obj: ObjectJson; ready?: Condition }>> {
  const states = new Map<string, { obj: ObjectJson; ready?: Condition }>();
  const list = async (args: string[]) => (JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as { items: ObjectJson[] }).items;
  const items = [
    ...(await list(['get', 'externalsecrets,secretstores', '-n', ns])),
    ...(await list(['get', 'clustersecretstores', '-l', `fuzz-ns=${ns}`])),
  ];
  const wanted = new Set(applied.map((a) => a.name));
  for (const obj of items) {
    if (!wanted.has(obj.metadata.name)) continue;
    const ready = readyOf(obj);
    states.set(obj.metadata.name, { obj, ready: ready?.observedGeneration === obj.metadata.generation ? ready : undefined });
  }
  return states;
}

function matches(a: Applied, ready: Condition | undefined): boolean {
  if (a.c.expect.kind !== 'ready' || !ready) return false;
  return a.c.expect.reasons.includes(ready.reason) && (!a.c.expect.message || ready.message.includes(a.c.expect.message));
}

/** Waits until every accepted object has the Ready condition its case expects (or the deadline). */
async function settle(accepted: Applied[], timeoutMs: number): Promise<Map<string, { obj: ObjectJson; ready?: Condition }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await readStates(accepted);
    const pending = accepted.filter((a) => !matches(a, states.get(a.name)?.ready));
    if (pending.length === 0 || Date.now() > deadline) return states;
    await sleep(500);
  }
}

async function reconciles(): Promise<number> {
  return op.counter('lockstep_reconcile_total');
}

function operatorAlive(): void {
  expect(op.process.exitCode).toBeNull();
  expect(op.process.signalCode).toBeNull();
  expect(op.process.pid).toBe(pid);
}

/** Applies a batch, checks admission outcomes, waits for conditions, and checks each against its case. */
async function runBatch(batch: Case[]): Promise<void> {
  figures.generated += batch.length;
  const started = Date.now();
  const before = await reconciles();
  const applied: Applied[] = [];
  for (const c of batch) {
    served.push(...(c.values ?? []));
    const name = nameFor(c);
    const result = await applyObject(manifestOf(c, name));
    applied.push({ c, name, rejection: result.ok ? undefined : result.message });
  }
  const problems: string[] = [];
  for (const a of applied) {
    const where = `${a.c.kind} ${a.name} [${a.c.family}] ${JSON.stringify(a.c.spec).slice(0, 300)}`;
    if (a.c.expect.kind === 'rejected') {
      if (a.rejection === undefined) problems.push(`${where}: accepted, but must be refused (${a.c.expect.message})`);
      else if (!a.c.expect.message.test(a.rejection)) problems.push(`${where}: refused with an unexpected message: ${a.rejection}`);
      else bump(figures.rejected, a.c.family);
    } else if (a.rejection !== undefined) {
      problems.push(`${where}: refused, but is valid: ${a.rejection}`);
    }
  }
  const accepted = applied.filter((a) => a.rejection === undefined);
  const states = await settle(accepted, 60_000);
  for (const a of accepted) problems.push(...(await checkOutcome(a, states.get(a.name))));
  operatorAlive();
  const used = (await reconciles()) - before;
  figures.reconciles += used;
  const elapsed = Date.now() - started;
  // Per accepted object: its add, a spec- or store-driven re-queue, and one more; plus one backoff
  // chain from the queue's 5 ms base (log2(elapsed / 5 ms) + 1 attempts), plus a Merge target poll
  // every 10 s. A reconcile that spins, or a refresh every millisecond, is orders of magnitude above.
  const chain = Math.ceil(Math.log2(elapsed / 5)) + 1;
  const merges = accepted.filter((a) => a.c.family.startsWith('Merge')).length;
  const bound = accepted.length * (3 + chain) + merges * Math.ceil(elapsed / 10_000);
  if (used > bound) problems.push(`${used} reconciles in ${elapsed} ms for ${accepted.length} objects (bound ${bound})`);
  expect(problems).toEqual([]);
}

async function checkOutcome(a: Applied, state: { obj: ObjectJson; ready?: Condition } | undefined): Promise<string[]> {
  const where = `${a.c.kind} ${a.name} [${a.c.family}] ${JSON.stringify(a.c.spec).slice(0, 300)}`;
  const ready = state?.ready;
  if (!ready) return [`${where}: no Ready condition for its generation (last: ${JSON.stringify(readyOf(state?.obj))})`];
  bump(figures.reasons, `${a.c.kind === 'ExternalSecret' ? '' : 'store '}${ready.reason}`);
  const problems: string[] = [];
  if (!README_REASONS.has(ready.reason)) problems.push(`${where}: reason ${ready.reason} is not in the README`);
  if (ready.message.trim() === '') problems.push(`${where}: empty message`);
  if (!matches(a, ready)) problems.push(`${where}: expected ${JSON.stringify(a.c.expect)}, got ${ready.reason}: ${ready.message}`);
  if (a.c.expect.kind === 'ready' && a.c.expect.data && ready.status === 'True') {
    const secret = await getJson(cluster, 'secret', ns, a.name);
    const data = decodeData(secret);
    if (JSON.stringify(sorted(data)) !== JSON.stringify(sorted(a.c.expect.data))) {
      problems.push(`${where}: Secret holds ${JSON.stringify(sorted(data))}, the model says ${JSON.stringify(sorted(a.c.expect.data))}`);
    }
  }
  return problems;
}

const sorted = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1)));

async function store(name: string, data: FakeEntry[], refreshInterval = '1h'): Promise<void> {
  served.push(...data.map((d) => d.value).filter((v) => v.length >= 6));
  const result = await applyObject(JSON.parse(secretStore(ns, name, data, refreshInterval)));
  if (!result.ok) throw new Error(result.message);
  await eventually(async () => readyOf(await getJson(cluster, 'secretstore', ns, name))?.status !== undefined, 30_000, `store ${name}`);
}

async function es(name: string, spec: Record<string, unknown>): Promise<void> {
  const result = await applyObject(JSON.parse(externalSecret(ns, name, spec)));
  if (!result.ok) throw new Error(result.message);
}

async function waitReady(name: string, status: string, reason?: string, timeoutMs = 30_000): Promise<Condition> {
  return eventually(async () => {
    const obj = await getJson(cluster, 'externalsecret', ns, name);
    const ready = readyOf(obj);
    const fresh = ready?.observedGeneration === obj?.metadata.generation;
    return fresh && ready?.status === status && (!reason || ready.reason === reason) ? ready : undefined;
  }, timeoutMs, `ExternalSecret ${name} Ready=${status}${reason ? ` (${reason})` : ''}`);
}

async function secretBytes(name: string): Promise<Record<string, Buffer>> {
  const out = await cluster.kubectl(['get', 'secret', name, '-n', ns, '-o', 'jsonpath={.data}']);
  const data = JSON.parse(out || '{}') as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('fuzz');
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
  pid = op.process.pid;
  for (const d of FUZZ_DATA) {
    served.push(d.value);
    try {
      const parsed = JSON.parse(d.value) as unknown;
      if (parsed && typeof parsed === 'object') for (const v of Object.values(parsed)) if (typeof v === 'string') served.push(v);
    } catch {
      // not JSON
    }
  }
  await store(FUZZ_STORE, FUZZ_DATA);
  await store(DUP_STORE, [{ key: 'k', value: 'dup-fuzz-one' }, { key: 'k', value: 'dup-fuzz-two' }]);
});

afterAll(async () => {
  await op?.stop();
  await cluster.kubectl(['delete', 'clustersecretstores', '-l', `fuzz-ns=${ns}`, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
  const table = (m: Map<string, number>) => [...m].sort(([, x], [, y]) => y - x).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stdout.write(
    `\nbad-input figures: ${figures.generated} objects generated in ${figures.fuzzMs} ms; ${[...figures.rejected.values()].reduce((s, v) => s + v, 0)} refused at admission (${table(figures.rejected)}); ` +
      `conditions: ${table(figures.reasons)}; ${figures.reconciles} reconciles during the batches\n${figures.notes.join('\n')}\n`,
  );
});

describe('fuzzed specs on the real apiserver', () => {
  it(`${BATCHES} batches of ${BATCH_SIZE}: refused with a message, or a Ready condition from the README's table; no crash, no spin`, async () => {
    const started = Date.now();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(anyCase, { minLength: BATCH_SIZE, maxLength: BATCH_SIZE }), runBatch),
        // A fixed seed and no shrinking: every run applies the same objects, and a failure reports its batch.
        { seed: SEED, numRuns: BATCHES, endOnFailure: true, verbose: 0 },
      );
    } finally {
      figures.fuzzMs = Date.now() - started;
    }
  }, 300_000);

  it('absurd refreshIntervals sync, and refresh no more than once a second', async () => {
    const intervals = ['1ms', '0.5ms', '0.0001ms', '99999999999999h', `1${'0'.repeat(400)}h`, '1h1h1h', '0'];
    for (const [i, refreshInterval] of intervals.entries()) {
      await es(`absurd-${i}`, { secretStoreRef: { name: FUZZ_STORE }, refreshInterval, data: [{ secretKey: 'v', remoteRef: { key: 'plain' } }] });
    }
    for (const i of intervals.keys()) await waitReady(`absurd-${i}`, 'True', 'SecretSynced');
    const windowMs = 10_000;
    const r0 = await op.counter('lockstep_reconcile_total', { controller: 'externalsecret' });
    const p0 = await op.counter('lockstep_provider_requests_total', { store: `SecretStore/${ns}/${FUZZ_STORE}` });
    await sleep(windowMs);
    const used = (await op.counter('lockstep_reconcile_total', { controller: 'externalsecret' })) - r0;
    const reads = (await op.counter('lockstep_provider_requests_total', { store: `SecretStore/${ns}/${FUZZ_STORE}` })) - p0;
    // "1ms" and "0.5ms" refresh at most every half second each (1 s floor, due from half an interval
    // on): 2 x (1 + 20); every other object here, and the fuzz's, at most a handful: 30 more.
    const bound = 2 * (1 + windowMs / 500) + 30;
    figures.notes.push(`absurd refreshIntervals (${intervals.map((d) => d.slice(0, 16)).join(', ')}): ${used} reconciles and ${reads} provider reads in 10 s (bound ${bound})`);
    expect(used).toBeLessThanOrEqual(bound);
    operatorAlive();
  }, 90_000);

  it('leaves nothing spinning: reconciles over a quiet 20 s stay within what each object schedules', async () => {
    const windowMs = 20_000;
    const { bound, items: all } = await scheduledReconciles(windowMs);
    const r0 = await reconciles();
    const w0 = await op.counter('lockstep_sync_total', { result: 'written' });
    await sleep(windowMs);
    const used = (await reconciles()) - r0;
    const written = (await op.counter('lockstep_sync_total', { result: 'written' })) - w0;
    figures.notes.push(`quiet window: ${used} reconciles in 20 s over ${all.length} ExternalSecrets (bound ${bound}); ${written} Secret writes`);
    if (used > bound) {
      // Name the objects whose status moved in the window: the ones spinning.
      const after = JSON.parse(await cluster.kubectl(['get', 'externalsecrets', '-n', ns, '-o', 'json'])) as { items: EsJson[] };
      const versions = new Map(all.map((i) => [i.metadata.name, i.metadata.resourceVersion]));
      const moved = after.items.filter((i) => versions.get(i.metadata.name) !== i.metadata.resourceVersion);
      expect(moved.map((i) => `${i.metadata.name} refreshInterval=${String(i.spec.refreshInterval).slice(0, 20)} ${readyOf(i)?.reason}`)).toEqual([]);
    }
    expect(used).toBeLessThanOrEqual(bound);
    expect(written).toBe(0);
    operatorAlive();
  }, 60_000);

  it('a valid ExternalSecret created after the bad batches syncs promptly', async () => {
    const started = Date.now();
    await es('canary', { secretStoreRef: { name: FUZZ_STORE }, data: [{ secretKey: 'v', remoteRef: { key: 'db/creds', property: 'password' } }] });
    await waitReady('canary', 'True', 'SecretSynced', 10_000);
    const ms = Date.now() - started;
    figures.notes.push(`canary after the fuzz: Ready in ${ms} ms`);
    expect(ms).toBeLessThan(5_000);
    expect(decodeData(await getJson(cluster, 'secret', ns, 'canary')).v).toBe('pw-fuzz-0001');
  });
});

type EsJson = ObjectJson & { spec: Record<string, unknown> };

/**
 * The most reconciles the ExternalSecrets of the namespace schedule in a window, from their state:
 * a synced Periodic one refreshes at most every half interval (intervals under 1 s count as 1 s);
 * a Merge target is polled every 10 s; every failure is requeued after 1 m, or after a backoff that
 * is by then past 10 s. So at most 1 + window / step each, plus 10 for stores and slack.
 */
async function scheduledReconciles(windowMs: number): Promise<{ bound: number; items: EsJson[] }> {
  const { items } = JSON.parse(await cluster.kubectl(['get', 'externalsecrets', '-n', ns, '-o', 'json'])) as { items: EsJson[] };
  let bound = 10;
  for (const item of items) {
    const ready = readyOf(item);
    const step = ready?.status === 'True' && ready.reason === 'SecretSynced' ? refreshStepMs(item.spec) : 10_000;
    bound += 1 + Math.floor(windowMs / step);
  }
  return { bound, items };
}

/** How often a synced ExternalSecret can come due: half its interval, floored at 1 s; never for "0" or a non-periodic policy. */
function refreshStepMs(spec: Record<string, unknown>): number {
  if (spec.refreshPolicy !== undefined && spec.refreshPolicy !== 'Periodic') return Number.POSITIVE_INFINITY;
  const text = typeof spec.refreshInterval === 'string' ? spec.refreshInterval : '1h';
  if (text === '0') return Number.POSITIVE_INFINITY;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) ms += Number(n) * (units[unit as string] ?? 0);
  return Math.max(1000, ms) / 2;
}

describe('sizes and shapes', () => {
  it('a Secret of exactly 1 MiB syncs byte for byte', async () => {
    const value = patterned(MIB, 'at-limit');
    await store('big-ok', [{ key: 'blob', value }]);
    await es('big-ok', { secretStoreRef: { name: 'big-ok' }, data: [{ secretKey: 'blob', remoteRef: { key: 'blob' } }] });
    await waitReady('big-ok', 'True', 'SecretSynced', 60_000);
    const bytes = await secretBytes('big-ok');
    expect(bytes.blob?.length).toBe(MIB);
    expect(sha(bytes.blob)).toBe(sha(Buffer.from(value)));
  }, 90_000);

  it('one byte over 1 MiB: Ready=False SecretSyncError naming the limit, and no retry storm over 20 s', async () => {
    await store('big-over', [{ key: 'blob', value: patterned(MIB + 1, 'over-limit') }]);
    await es('big-over', { secretStoreRef: { name: 'big-over' }, data: [{ secretKey: 'blob', remoteRef: { key: 'blob' } }] });
    const ready = await waitReady('big-over', 'False', undefined, 60_000);
    const labels = { controller: 'externalsecret' };
    const { bound } = await scheduledReconciles(20_000);
    const r0 = await op.counter('lockstep_reconcile_total', labels);
    const w0 = await op.counter('lockstep_kube_requests_total', { resource: 'secrets', code: '422' });
    await sleep(20_000);
    const reconcilesIn20s = (await op.counter('lockstep_reconcile_total', labels)) - r0;
    const refusedIn20s = (await op.counter('lockstep_kube_requests_total', { resource: 'secrets', code: '422' })) - w0;
    figures.notes.push(`1 MiB + 1 byte: ${ready.reason} "${ready.message.slice(0, 160)}"; in the next 20 s ${refusedIn20s} refused Secret writes, ${reconcilesIn20s} reconciles of all objects (bound ${bound})`);
    // A refused write is a permanent error: retried after --error-requeue (1 m), not in a loop. The
    // store's own Ready transition may nominate it once more: at most 2 refused writes. The other
    // objects of this file refresh meanwhile (the fuzz's short intervals), within what they schedule.
    expect(refusedIn20s).toBeLessThanOrEqual(2);
    expect(reconcilesIn20s).toBeLessThanOrEqual(bound);
    expect(ready.reason).toBe('SecretSyncError');
    expect(ready.message).toContain("Secret 'big-over'");
    expect(ready.message).toMatch(/1048576/);
    expect(await getJson(cluster, 'secret', ns, 'big-over')).toBeUndefined();
  }, 120_000);

  it('5,000 keys: dataFrom extract of one object, and 5,000 data entries', async () => {
    const fields = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key-${i}`, `wide-value-${i}`]));
    const entries = Array.from({ length: 5000 }, (_, i) => ({ key: `w/${i}`, value: `w${i}` }));
    await store('wide', [{ key: 'many', value: JSON.stringify(fields) }, ...entries]);
    const started = Date.now();
    await es('wide-extract', { secretStoreRef: { name: 'wide' }, dataFrom: [{ extract: { key: 'many' } }] });
    await es('wide-data', { secretStoreRef: { name: 'wide' }, data: entries.map((e, i) => ({ secretKey: `d${i}`, remoteRef: { key: e.key } })) });
    await waitReady('wide-extract', 'True', 'SecretSynced', 60_000);
    await waitReady('wide-data', 'True', 'SecretSynced', 60_000);
    figures.notes.push(`5,000 keys: both ExternalSecrets synced ${Date.now() - started} ms after they were applied`);
    const extracted = decodeData(await getJson(cluster, 'secret', ns, 'wide-extract'));
    expect(Object.keys(extracted)).toHaveLength(5000);
    expect(extracted).toEqual(fields);
    const data = decodeData(await getJson(cluster, 'secret', ns, 'wide-data'));
    expect(Object.keys(data)).toHaveLength(5000);
    expect(data.d4321).toBe('w4321');
  }, 150_000);

  it('arbitrary Unicode values (control characters, NUL, astral planes) survive byte for byte', async () => {
    const fixed = ['\u0000nul\u0000', '\u0001\u0002\u001f\u007f ctl', '\r\n\t crlf', '\ufeffbom', 'é e\u0301 ü', '😀🔐𝕏', '\u{10ffff}\u{e000}max', '"\\\' quotes'];
    const random = fc.sample(fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }), { seed: SEED, numRuns: 24 });
    const values = [...fixed, ...random];
    const data = values.map((value, i) => ({ key: `u${i}`, value }));
    const entries = [...data, { key: 'json', value: JSON.stringify(Object.fromEntries(values.map((v, i) => [`j${i}`, v]))) }];
    // `kubectl apply --server-side` sends the manifest as YAML, which cannot carry DEL, C1 controls
    // or U+FFFF even escaped; `kubectl create` sends JSON, which carries every code point.
    await cluster.kubectl(['create', '-f', '-'], asciiJson(JSON.parse(secretStore(ns, 'bytes', entries))));
    served.push(...values.filter((v) => Buffer.byteLength(v) >= 8));
    await es('bytes', {
      secretStoreRef: { name: 'bytes' },
      data: [
        ...data.map((d) => ({ secretKey: d.key, remoteRef: { key: d.key } })),
        ...values.map((_, i) => ({ secretKey: `p${i}`, remoteRef: { key: 'json', property: `j${i}` } })),
      ],
      dataFrom: [{ extract: { key: 'json' } }],
    });
    await waitReady('bytes', 'True', 'SecretSynced');
    const bytes = await secretBytes('bytes');
    const wrong: string[] = [];
    values.forEach((v, i) => {
      const want = Buffer.from(v, 'utf8');
      for (const key of [`u${i}`, `p${i}`, `j${i}`]) if (!bytes[key]?.equals(want)) wrong.push(`${key}: ${JSON.stringify(v)} came back as ${bytes[key]?.toString('hex')}`);
    });
    expect(wrong).toEqual([]);
    figures.notes.push(`Unicode: ${values.length} values x 3 paths (value, property, extract) byte for byte; non-UTF-8 bytes cannot be expressed by the fake provider (its values are strings)`);
  });

  it('keys Kubernetes refuses give InvalidSpec naming the key; the Secret is not written', async () => {
    await store('keys', [{ key: 'team/db', value: 'keys-fuzz-value' }, { key: 'obj', value: JSON.stringify({ 'a b': 'keys-fuzz-x', '..dots': 'keys-fuzz-y', ok: 'keys-fuzz-z' }) }]);
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['keys-find', { dataFrom: [{ find: { path: 'team/' } }] }, ["'team/db'"]],
      ['keys-extract', { dataFrom: [{ extract: { key: 'obj' } }] }, ["'a b'", "'..dots'"]],
      ['keys-dotdot', { data: [{ secretKey: '..', remoteRef: { key: 'team/db' } }] }, ["'..'"]],
      ['keys-template', { data: [{ secretKey: 'v', remoteRef: { key: 'team/db' } }], target: { template: { data: { '.': '{{ v }}' } } } }, ["'.'"]],
    ];
    for (const [name, spec] of cases) await es(name, { secretStoreRef: { name: 'keys' }, ...spec });
    for (const [name, , named] of cases) {
      const ready = await waitReady(name, 'False', 'InvalidSpec');
      for (const key of named) expect(ready.message).toContain(key);
      expect(await getJson(cluster, 'secret', ns, name)).toBeUndefined();
    }
  });

  it('two ExternalSecrets on one Secret, applied together: one owns it, the other reports TargetConflict', async () => {
    for (let i = 0; i < 5; i++) {
      const target = `contested-${i}`;
      const spec = (key: string) => ({ secretStoreRef: { name: FUZZ_STORE }, target: { name: target }, data: [{ secretKey: 'v', remoteRef: { key } }] });
      await Promise.all([es(`pair-${i}-a`, spec('api/one')), es(`pair-${i}-b`, spec('api/two'))]);
      await eventually(async () => {
        const both = await Promise.all(['a', 'b'].map(async (s) => readyOf(await getJson(cluster, 'externalsecret', ns, `pair-${i}-${s}`))));
        return both.every((c) => c !== undefined);
      }, 30_000, `pair ${i} conditions`);
      await sleep(2_000); // let a late write of the loser show
      const secret = await getJson(cluster, 'secret', ns, target);
      const owner = secret?.metadata.annotations?.['lockstep.dev/external-secret'];
      const winner = owner === `${ns}/pair-${i}-a` ? 'a' : 'b';
      const loser = winner === 'a' ? 'b' : 'a';
      const final = await Promise.all([winner, loser].map(async (s) => readyOf(await getJson(cluster, 'externalsecret', ns, `pair-${i}-${s}`))));
      expect([final[0]?.reason, final[1]?.reason]).toEqual(['SecretSynced', 'TargetConflict']);
      expect(decodeData(secret).v).toBe(winner === 'a' ? 'api-one-fuzz-value' : 'api-two-fuzz-value');
    }
  }, 120_000);
});

describe('the operator throughout', () => {
  it('never exited, printed no uncaught error or stack trace, and leaked no value', () => {
    operatorAlive();
    const output = op.output();
    expect(output.length).toBeGreaterThan(1000);
    const bad = output.split('\n').filter((l) => /uncaught|unhandled|FATAL|heap out of memory|^\s+at .+:\d+:\d+\)?$/i.test(l));
    expect(bad.slice(0, 10)).toEqual([]);
    expect(findLeaks(output, served)).toEqual([]);
  });
});

/** A deterministic printable value of `size` bytes (not one repeated character, so a truncation shows). */
function patterned(size: number, tag: string): string {
  const unit = `${tag}-${createHash('sha256').update(tag).digest('hex')}|`;
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/** JSON with every non-ASCII character escaped as \\uXXXX (surrogate pairs as two escapes). */
function asciiJson(obj: unknown): string {
  return JSON.stringify(obj).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sha(b: Buffer | undefined): string {
  return createHash('sha256').update(b ?? Buffer.alloc(0)).digest('hex');
}
