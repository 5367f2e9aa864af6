// Issue 12, point 3: split brain. Two replicas with leader election on one Lease, each behind its
// own fault proxy, so every request is known to come from one replica. The leader is cut off from
// the Lease only (its lease requests hang; everything else still reaches the apiserver): the worst
// partition, because a leader that kept going could still write. Meanwhile the store changes every
// 2 s, so a leader always has writes to make. What must hold, from the proxies' logs:
// - the old leader makes no write after its renew deadline (10 s after its last successful renewal,
//   src/runtime/leader-election.ts), i.e. before its lease (15 s) can expire for the standby;
// - no object is written by both replicas in overlapping periods: every write of the old leader
//   precedes every write of the new one;
// - the new leader syncs changes made after the takeover; the old leader exits (code 1).
import { eventually } from '../harness/cluster.js';
import { applyStore, blankingsOrDeletions, expectAlive, pkiDir, prepareScenario, report, startBehindProxy, waitConverged } from './fault-proxy-fixtures.js';
import { isWrite, serverOf, startFaultProxy, type FaultProxy, type RequestRecord } from './fault-proxy.js';
import type { RunningOperator } from '../support/operator.js';

const RENEW_DEADLINE_MS = 10_000;
const LEASE_DURATION_MS = 15_000;
const LEASE = /\/leases\//;
/** Scheduling slack for a write already being sent at the deadline. */
const SLACK_MS = 1_000;

const objectOf = (r: RequestRecord) => `${r.resource.split('/')[0] ?? ''} ${r.name ?? '(new)'}`;

describe('split brain: the leader is cut off from its Lease while a standby takes over', () => {
  it('the old leader stops writing at its renew deadline, before the standby writes, and exits', async () => {
    const s = await prepareScenario('split-brain', 10);
    const extra: FaultProxy[] = [];
    const ops: RunningOperator[] = [];
    let gen = 1;
    let churn = true;
    try {
      const proxyB = await startFaultProxy({ upstream: serverOf(s.cluster.kubeconfigPath), pkiDir: pkiDir(s.cluster) });
      extra.push(proxyB);
      const replicas = [
        { identity: 'replica-a', proxy: s.proxy },
        { identity: 'replica-b', proxy: proxyB },
      ];
      for (const r of replicas) ops.push(await startBehindProxy(s, { leaderElect: true, identity: r.identity, proxy: r.proxy }));
      const holder = async () => (await s.cluster.kubectl(['get', 'lease', 'lockstep-controller', '-n', s.ns, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
      const leaderId = await eventually(async () => (await holder()) || undefined, 60_000, 'a leader');
      await waitConverged(s, 1);
      const li = replicas.findIndex((r) => r.identity === leaderId);
      const pick = (i: number) => {
        const r = replicas[i];
        const op = ops[i];
        if (!r || !op) throw new Error(`no replica ${i} (leader is '${leaderId}')`);
        return { ...r, op };
      };
      const [oldLeader, newLeader] = [pick(li), pick(1 - li)];

      const changing = (async () => {
        while (churn) {
          await applyStore(s.cluster, s.ns, ++gen);
          await new Promise((r) => setTimeout(r, 2000));
        }
      })();
      await new Promise((r) => setTimeout(r, 3000));

      const cutAt = Date.now();
      oldLeader.proxy.addRule({ path: LEASE, action: { kind: 'blackhole' } });
      let exitedAt = 0;
      void new Promise((r) => oldLeader.op.process.once('exit', r)).then(() => (exitedAt = Date.now()));
      const takeover = await eventually(async () => (await holder()) === newLeader.identity, 60_000, 'the standby to take the lease').then(() => Date.now());
      // A change made after the takeover is synced by the new leader.
      await eventually(async () => newLeader.proxy.log.some((r) => isWrite(r) && !LEASE.test(r.path)), 60_000, 'a write by the new leader');
      churn = false;
      await changing;
      await applyStore(s.cluster, s.ns, ++gen);
      const lastChangeAt = Date.now();
      await waitConverged(s, gen, 60_000);

      const lastRenew = oldLeader.proxy.log.filter((r) => r.method === 'PUT' && LEASE.test(r.path) && r.status === 200).at(-1);
      const renewDeadline = (lastRenew?.endedAt ?? 0) + RENEW_DEADLINE_MS;
      const oldWrites = oldLeader.proxy.log.filter((r) => isWrite(r) && r.fault === undefined);
      const oldWritesAfterCut = oldWrites.filter((r) => r.startedAt >= cutAt && !LEASE.test(r.path));
      const lastOld = oldWrites.at(-1);
      const newWrites = newLeader.proxy.log.filter((r) => isWrite(r) && !LEASE.test(r.path));
      const firstNew = newWrites[0];
      const newLeaseWrite = newLeader.proxy.log.find((r) => r.method === 'PUT' && LEASE.test(r.path) && r.status === 200);
      // Objects both replicas wrote, where some write of the old leader came after one of the new leader.
      const overlapping = [...new Set(newWrites.map(objectOf))].filter((obj) => {
        const oldLast = oldWrites.filter((r) => objectOf(r) === obj).at(-1);
        const newFirst = newWrites.find((r) => objectOf(r) === obj);
        return oldLast && newFirst && oldLast.startedAt >= newFirst.startedAt;
      });
      // Judge the writes first (a leader that keeps writing fails here, with figures), then the exit.
      const exitCode = await eventually(async () => oldLeader.op.process.exitCode ?? undefined, 60_000, 'the old leader to exit')
        .catch(() => 'still running');
      report('split brain', {
        cutToOldLastWriteMs: (lastOld?.startedAt ?? 0) - cutAt,
        lastRenewToOldLastWriteMs: (lastOld?.startedAt ?? 0) - (lastRenew?.endedAt ?? 0),
        cutToOldExitMs: exitedAt ? exitedAt - cutAt : 'no exit',
        cutToTakeoverMs: (newLeaseWrite?.startedAt ?? takeover) - cutAt,
        cutToNewFirstWriteMs: (firstNew?.startedAt ?? 0) - cutAt,
        gapOldLastToNewFirstMs: (firstNew?.startedAt ?? 0) - (lastOld?.startedAt ?? 0),
        oldWritesAfterCut: oldWritesAfterCut.length, objectsWrittenByBoth: new Set(newWrites.map(objectOf)).size,
        overlapping: overlapping.length, convergedAfterLastChangeMs: Date.now() - lastChangeAt, exitCode,
      });
      expect(lastRenew).toBeDefined();
      // Not vacuous: the old leader was still writing after the cut (its lease was still valid).
      expect(oldWritesAfterCut.length).toBeGreaterThan(0);
      // It stopped at its renew deadline, well before the lease could expire for the standby.
      expect(lastOld!.startedAt).toBeLessThanOrEqual(renewDeadline + SLACK_MS);
      expect(renewDeadline + SLACK_MS).toBeLessThan((lastRenew?.endedAt ?? 0) + LEASE_DURATION_MS);
      // No overlap: the new leader's first write comes after the old leader's last one, per object too.
      expect(firstNew!.startedAt).toBeGreaterThan(lastOld!.startedAt);
      expect(overlapping).toEqual([]);
      expect(exitCode).toBe(1);
      expect(blankingsOrDeletions(s)).toEqual([]);
      expectAlive(newLeader.op);
    } finally {
      churn = false;
      await Promise.all(ops.map((o) => o.stop('SIGKILL')));
      await Promise.all(extra.map((p) => p.close()));
      await s.cleanup();
    }
  }, 170_000);
});
