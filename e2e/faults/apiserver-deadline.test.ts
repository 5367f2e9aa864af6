// Issue 12, point 2 (d): answers delayed past the operator's request deadline (30 s, kube-transport.ts).
// The fault proxy forwards the write (so the apiserver applies it) and holds the answer for 40 s:
// the operator must give up at its deadline, finish the reconcile after that (the write landed, so
// the hash-guarded retry may find nothing left to write and only record status), with no Secret
// blanked and no crash.
import {
  applyStore, blankingsOrDeletions, expectAlive, prepareScenario, report, startBehindProxy, waitConverged,
} from './fault-proxy-fixtures.js';
import { eventually } from '../harness/cluster.js';
import { isWrite, type RequestRecord } from './fault-proxy.js';

const COUNT = 10;
const DEADLINE_MS = 30_000;
const DELAY_MS = 40_000;
const DELAYED = 3;

describe('apiserver answers slower than the request deadline', () => {
  it('(d) delayed Secret writes time out at the deadline, are retried, and everything converges', async () => {
    const s = await prepareScenario('fault-slow', COUNT);
    try {
      const op = await startBehindProxy(s);
      await waitConverged(s, 1);
      const from = s.proxy.log.length;
      s.proxy.addRule({ method: /^PATCH$/, path: /\/secrets\/es-/, count: DELAYED, action: { kind: 'delay', delayMs: DELAY_MS } });
      const rotatedAt = Date.now();
      await applyStore(s.cluster, s.ns, 2);
      // The Secret itself changes at once (the proxy forwarded the write); wait for the operator to
      // give up on the held answers and to finish those reconciles after that.
      const delayed = await eventually(async () => {
        const held = s.proxy.log.slice(from).filter((r) => r.fault === 'delay');
        return held.length === DELAYED && held.every((r) => r.endedAt !== undefined) && held;
      }, DELAY_MS + 20_000, 'the delayed requests to end');
      const followUp = (r: RequestRecord) => s.proxy.log.find((x) => x.id > r.id && isWrite(x) && x.status < 300 && x.startedAt >= (r.endedAt ?? 0)
        && (x.path === r.path || x.path.includes(`/externalsecrets/${r.name ?? ''}/status`)));
      const followUps = await eventually(async () => {
        const found = delayed.map(followUp);
        return found.every(Boolean) && (found as RequestRecord[]);
      }, 60_000, 'a write after each abandoned request');
      const convergeMs = await waitConverged(s, 2, 60_000) + (Date.now() - rotatedAt);
      const log = s.proxy.log.slice(from);
      const gaveUpAfter = delayed.map((r) => (r.endedAt ?? Infinity) - r.startedAt);
      const writes = log.filter(isWrite).length;
      // A rotation costs 4 writes per ExternalSecret (status with lastRotationTime, the Secret, the
      // SecretRotated Event, status Ready) and the store's status one. Each abandoned write costs
      // at most 4 more: SecretSyncError in status and its Warning Event, then the recovery (status
      // and the Synced Event), plus up to 2 status patches from reconciles that the store's update
      // and our own status writes queue while the held request is pending (how many depends on how
      // they interleave). Measured: 50 to 54 of 59. A retry storm would be hundreds.
      const bound = 4 * COUNT + 1 + 6 * DELAYED;
      report('delayed past the deadline', {
        delayed: delayed.length, delayMs: DELAY_MS, deadlineMs: DEADLINE_MS, gaveUpAfterMs: gaveUpAfter,
        followUpAfterMs: followUps.map((x, i) => x.startedAt - (delayed[i]?.endedAt ?? 0)), followUps: followUps.map((x) => `${x.verb} ${x.resource}`),
        writes, bound, convergeMs, byVerb: s.proxy.counts((x) => log.includes(x) && isWrite(x)),
      });
      expect(delayed).toHaveLength(DELAYED);
      for (const [i, r] of delayed.entries()) {
        // The operator, not the proxy, ended the request: at its deadline, before the answer came.
        expect(r.clientAborted).toBe(true);
        expect(gaveUpAfter[i]).toBeGreaterThanOrEqual(DEADLINE_MS - 1000);
        expect(gaveUpAfter[i]).toBeLessThan(DELAY_MS);
      }
      expect(writes).toBeLessThanOrEqual(bound);
      // Every ExternalSecret announces its rotation once, those whose write answer was lost too (the
      // write landed; the retry finds nothing left to write and announces it then).
      const rotatedEvents = await eventually(async () => {
        const events = JSON.parse(await s.cluster.kubectl(['get', 'events.events.k8s.io', '-n', s.ns, '--field-selector', 'reason=SecretRotated', '-o', 'json'])) as
          { items: { regarding?: { name?: string } }[] };
        const names = events.items.map((e) => e.regarding?.name ?? '').sort();
        return names.length >= s.names.length && names;
      }, 30_000, 'a SecretRotated Event for each ExternalSecret');
      expect(rotatedEvents).toEqual([...s.names].sort());
      expect(blankingsOrDeletions(s)).toEqual([]);
      expectAlive(op);
    } finally {
      await s.cleanup();
    }
  }, 170_000);
});
