// Issue 12, point 2: apiserver trouble between the operator and the apiserver, injected by an
// HTTP fault proxy (fault-proxy.ts). Each scenario: a namespace with a fake store and 30
// ExternalSecrets, one operator behind its own proxy, a watch on the Secrets straight on the
// apiserver. What must hold: everything ends Ready with the store's value, the operator neither
// crashes nor restarts, no Secret is ever blanked or deleted, and the number of requests stays
// bounded (backoff, not a retry storm). Figures are printed as `[fault figures]` lines.
import {
  applyStore, blankingsOrDeletions, expectAlive, prepareScenario, report, startBehindProxy, waitConverged, type Scenario,
} from './fault-proxy-fixtures.js';
import type { RequestRecord } from './fault-proxy.js';

const COUNT = 30;
const WRITE = /^(POST|PUT|PATCH|DELETE)$/;
/** The writes Lockstep makes for a sync: the Secret, the ExternalSecret's status, Events. */
const SYNC_PATHS = /\/(secrets|externalsecrets|events)(\/|\?|$)/;

const TIMEOUT = 170_000;

/**
 * Writes of a fault-free first sync: one Secret apply and one status patch per ExternalSecret, and
 * the operator's hash-key Secret (created once). The baseline test checks this figure.
 */
const FIRST_SYNC_WRITES = 2 * COUNT + 1;
/** Identical status rewrites from a stale informer cache we tolerate per run (10 % of the objects). */
const STALE_CACHE_REWRITES = COUNT / 10;
/** A rotation: status (lastRotationTime), the Secret, the SecretRotated Event, status Ready. */
const ROTATION_WRITES = 4 * COUNT;
/**
 * Attempts one key can make while every attempt fails for `windowMs`: the work queue retries a key
 * after 5 ms·2^n (jitter ±10 %), so n attempts take at least 4.5 ms·(2^n − 1). Plus the attempt
 * in flight when the window opened.
 */
function attemptsWithin(windowMs: number): number {
  return Math.floor(Math.log2(windowMs / 4.5 + 1)) + 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(prefix: string, body: (s: Scenario) => Promise<void>): Promise<void> {
  const s = await prepareScenario(prefix, COUNT);
  try {
    await body(s);
  } finally {
    await s.cleanup();
  }
}

/** The next request after `r` with the same method and path (the retry of `r`). */
function retryOf(log: readonly RequestRecord[], r: RequestRecord): RequestRecord | undefined {
  return log.find((x) => x.id > r.id && x.method === r.method && x.path === r.path);
}

/** Objects written successfully more than once (`verb resource name`). */
function twiceWritten(log: readonly RequestRecord[]): string[] {
  const ok = new Map<string, number>();
  for (const r of log) {
    if (!isSyncWrite(r) || r.status >= 300 || r.status === 0) continue;
    const key = `${r.verb} ${r.resource} ${r.name ?? ''}`;
    ok.set(key, (ok.get(key) ?? 0) + 1);
  }
  return [...ok].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
}

function isSyncWrite(r: RequestRecord): boolean {
  return WRITE.test(r.method) && SYNC_PATHS.test(r.path);
}

/** Converges on generation 1 with no fault, then rotates to generation 2 under `fault`, which lasts `windowMs`. */
async function rotateUnder(s: Scenario, windowMs: number, fault: () => (() => void)) {
  const op = await startBehindProxy(s);
  await waitConverged(s, 1);
  const from = s.proxy.log.length;
  const removeFault = fault();
  const faultAt = Date.now();
  await applyStore(s.cluster, s.ns, 2);
  await sleep(windowMs);
  removeFault();
  const clearedAt = Date.now();
  await waitConverged(s, 2, 120_000);
  const log = s.proxy.log.slice(from);
  const inWindow = log.filter((r) => r.startedAt <= clearedAt);
  return {
    op, log, inWindow,
    recoverMs: Date.now() - clearedAt,
    totalMs: Date.now() - faultAt,
    injected: log.filter((r) => r.fault !== undefined).length,
  };
}

describe('apiserver faults through an HTTP fault proxy', () => {
  it('fault-free baseline: the writes one first sync costs', async () => {
    await run('fault-base', async (s) => {
      const op = await startBehindProxy(s);
      const ms = await waitConverged(s, 1);
      const syncWrites = s.proxy.log.filter(isSyncWrite);
      report('baseline', { externalSecrets: COUNT, convergeMs: ms, writes: syncWrites.length, requests: s.proxy.log.length, byVerb: s.proxy.counts(isSyncWrite) });
      expect(syncWrites.length).toBe(FIRST_SYNC_WRITES);
      expect(blankingsOrDeletions(s)).toEqual([]);
      expectAlive(op);
    });
  }, TIMEOUT);

  it('(a) 429 with Retry-After on writes: each rejected write is repeated once, no sooner than Retry-After', async () => {
    await run('fault-429', async (s) => {
      const RETRY_AFTER_S = 2;
      s.proxy.addRule({ method: WRITE, path: SYNC_PATHS, ratio: 0.5, count: 40, action: { kind: 'status', status: 429, retryAfterSeconds: RETRY_AFTER_S } });
      const started = Date.now();
      const op = await startBehindProxy(s);
      const ms = await waitConverged(s, 1);
      const rejected = s.proxy.log.filter((r) => r.status === 429);
      const gaps = rejected.map((r) => {
        const retry = retryOf(s.proxy.log, r);
        return retry ? retry.startedAt - (r.endedAt ?? r.startedAt) : Infinity;
      });
      const syncWrites = s.proxy.log.filter(isSyncWrite).length;
      report('429 Retry-After', {
        rejected: rejected.length, retryAfterS: RETRY_AFTER_S, minGapMs: Math.min(...gaps), maxGapMs: Math.max(...gaps.filter(Number.isFinite)),
        writes: syncWrites, bound: FIRST_SYNC_WRITES + rejected.length + STALE_CACHE_REWRITES, convergeMs: ms, sinceStartMs: Date.now() - started,
        byVerb: s.proxy.counts(isSyncWrite), twiceWritten: twiceWritten(s.proxy.log), statuses: s.proxy.counts((x) => isSyncWrite(x) && x.status >= 300 && x.status !== 429),
      });
      expect(rejected.length).toBeGreaterThan(10);
      // Retry-After is honoured: the same request comes back no sooner (100 ms for clock granularity).
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 100);
      // Each 429 costs exactly one more attempt of that write: nothing else is written again, except
      // that a reconcile woken by its own Secret write may read the ExternalSecret from a cache that
      // has not seen its status write yet and write the same status again (seen 0–1 times a run).
      expect(syncWrites).toBeLessThanOrEqual(FIRST_SYNC_WRITES + rejected.length + STALE_CACHE_REWRITES);
      expect(blankingsOrDeletions(s)).toEqual([]);
      expectAlive(op);
    });
  }, TIMEOUT);

  it('(b) a 10 s burst of 500/503 on every write during a rotation: backoff bounds the retries; all converge', async () => {
    await run('fault-5xx', async (s) => {
      const WINDOW_MS = 10_000;
      const r = await rotateUnder(s, WINDOW_MS, () => {
        const a = s.proxy.addRule({ method: WRITE, ratio: 0.5, action: { kind: 'status', status: 500 } });
        const b = s.proxy.addRule({ method: WRITE, action: { kind: 'status', status: 503 } });
        return () => { s.proxy.removeRule(a); s.proxy.removeRule(b); };
      });
      const syncWrites = r.log.filter(isSyncWrite).length;
      // Per key: attemptsWithin(window) failed attempts, each a Secret apply plus a status write
      // (which fails too), then one good round; a retry storm would be thousands.
      const bound = COUNT * attemptsWithin(WINDOW_MS) * 2 + ROTATION_WRITES;
      report('500/503 burst', {
        windowMs: WINDOW_MS, injected: r.injected, writes: syncWrites, writesInWindow: r.inWindow.filter(isSyncWrite).length, bound,
        requests: r.log.length, recoverMsAfterBurst: r.recoverMs, byVerb: s.proxy.counts((x) => r.log.includes(x) && WRITE.test(x.method)),
      });
      expect(r.injected).toBeGreaterThan(COUNT);
      expect(syncWrites).toBeLessThanOrEqual(bound);
      expect(blankingsOrDeletions(s)).toEqual([]);
      expectAlive(r.op);
    });
  }, TIMEOUT);

  it('(c) connection resets on 30 % of all requests (watches included) for 15 s during a rotation', async () => {
    await run('fault-reset', async (s) => {
      const WINDOW_MS = 15_000;
      const r = await rotateUnder(s, WINDOW_MS, () => {
        const rule = s.proxy.addRule({ ratio: 0.3, action: { kind: 'reset' } });
        // Open watches are cut too, so that informers must resume under the same fault.
        s.proxy.resetAll();
        return () => s.proxy.removeRule(rule);
      });
      const syncWrites = r.log.filter(isSyncWrite).length;
      const bound = COUNT * attemptsWithin(WINDOW_MS) * 2 + ROTATION_WRITES;
      report('connection resets', {
        windowMs: WINDOW_MS, resets: r.injected, writes: syncWrites, bound, requests: r.log.length,
        watches: r.log.filter((x) => x.verb === 'watch').length, lists: r.log.filter((x) => x.verb === 'list').length,
        recoverMsAfterWindow: r.recoverMs,
      });
      expect(r.injected).toBeGreaterThan(5);
      expect(syncWrites).toBeLessThanOrEqual(bound);
      expect(blankingsOrDeletions(s)).toEqual([]);
      expectAlive(r.op);
    });
  }, TIMEOUT);
});
