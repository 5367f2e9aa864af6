// Issue 12, point 3: split brain. Two replicas with leader election on one Lease, each behind its
// own fault proxy, so every request is known to come from one replica. Meanwhile the store changes
// every 2 s, so a leader always has writes to make. Two partitions of the leader:
// 1. cut off from the Lease only (its lease requests hang; everything else still reaches the
//    apiserver): the worst partition, because a leader that kept going could still write;
// 2. cut off from the apiserver entirely (every open connection reset, every new request hangs,
//    except its lease read, which is answered 10 s late), and the partition heals 1 s after the
//    leader stepped down, before its lease expires: a leader that had not stepped down would write
//    again then, and one that acted on the late lease read would renew the lease as it exits.
// What must hold, from the proxies' logs:
// - the old leader makes no write after its renew deadline (10 s after its last successful renewal,
//   src/runtime/leader-election.ts), i.e. before its lease (15 s) can expire for the standby; in the
//   full cut, not even an attempt (a request that hangs at the proxy);
// - no object is written by both replicas in overlapping periods: every write of the old leader
//   precedes every write of the new one;
// - the new leader syncs changes made after the takeover; the old leader exits (code 1).
import { eventually } from '../harness/cluster.js';
import { applyStore, blankingsOrDeletions, expectAlive, pkiDir, prepareScenario, report, startBehindProxy, waitConverged, type Scenario } from './fault-proxy-fixtures.js';
import { isWrite, serverOf, startFaultProxy, type FaultProxy, type RequestRecord } from './fault-proxy.js';
import type { RunningOperator } from '../support/operator.js';

const RENEW_DEADLINE_MS = 10_000;
const LEASE_DURATION_MS = 15_000;
const LEASE = /\/leases\//;
/** Scheduling slack for a write already being sent at the deadline. */
const SLACK_MS = 1_000;

const objectOf = (r: RequestRecord) => `${r.resource.split('/')[0] ?? ''} ${r.name ?? '(new)'}`;

interface Replica {
  identity: string;
  proxy: FaultProxy;
  op: RunningOperator;
}

interface Pair {
  oldLeader: Replica;
  newLeader: Replica;
  holder(): Promise<string>;
  /** Applies a new store generation every 2 s until stopped; resolves with the last generation. */
  churn(): { stop(): Promise<number> };
}

/** Two replicas behind their own proxies (the scenario's and a second one), one of them leading. */
async function startPair(s: Scenario, extra: FaultProxy[], ops: RunningOperator[]): Promise<Pair> {
  const proxyB = await startFaultProxy({ upstream: serverOf(s.cluster.kubeconfigPath), pkiDir: pkiDir(s.cluster) });
  extra.push(proxyB);
  const proxies = [{ identity: 'replica-a', proxy: s.proxy }, { identity: 'replica-b', proxy: proxyB }];
  const replicas: Replica[] = [];
  for (const r of proxies) {
    const op = await startBehindProxy(s, { leaderElect: true, identity: r.identity, proxy: r.proxy });
    ops.push(op);
    replicas.push({ ...r, op });
  }
  const holder = async () => (await s.cluster.kubectl(['get', 'lease', 'lockstep-controller', '-n', s.ns, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
  const leaderId = await eventually(async () => (await holder()) || undefined, 60_000, 'a leader');
  await waitConverged(s, 1);
  const li = replicas.findIndex((r) => r.identity === leaderId);
  const [oldLeader, newLeader] = [replicas[li], replicas[1 - li]];
  if (!oldLeader || !newLeader) throw new Error(`leader '${leaderId}' is not one of the replicas`);
  let gen = 1;
  const churn = () => {
    let on = true;
    const loop = (async () => {
      while (on) {
        await applyStore(s.cluster, s.ns, ++gen).catch(() => (on = false)); // the namespace is going away
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    return { stop: async () => { on = false; await loop; return gen; } };
  };
  return { oldLeader, newLeader, holder, churn };
}

describe('split brain: the leader is cut off from its Lease while a standby takes over', () => {
  it('the old leader stops writing at its renew deadline, before the standby writes, and exits', async () => {
    const s = await prepareScenario('split-brain', 10);
    const extra: FaultProxy[] = [];
    const ops: RunningOperator[] = [];
    let changing: { stop(): Promise<number> } | undefined;
    try {
      const { oldLeader, newLeader, holder, churn } = await startPair(s, extra, ops);
      changing = churn();
      await new Promise((r) => setTimeout(r, 3000));

      const cutAt = Date.now();
      oldLeader.proxy.addRule({ path: LEASE, action: { kind: 'blackhole' } });
      let exitedAt = 0;
      void new Promise((r) => oldLeader.op.process.once('exit', r)).then(() => (exitedAt = Date.now()));
      const takeover = await eventually(async () => (await holder()) === newLeader.identity, 60_000, 'the standby to take the lease').then(() => Date.now());
      // A change made after the takeover is synced by the new leader.
      await eventually(async () => newLeader.proxy.log.some((r) => isWrite(r) && !LEASE.test(r.path)), 60_000, 'a write by the new leader');
      let gen = await changing.stop();
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
      const overlapping = overlappingObjects(oldWrites, newWrites);
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
      await changing?.stop();
      await Promise.all(ops.map((o) => o.stop('SIGKILL')));
      await Promise.all(extra.map((p) => p.close()));
      await s.cleanup();
    }
  }, 170_000);
});

describe('split brain: the leader is cut off from the apiserver entirely, and the partition heals', () => {
  it('the old leader steps down before its lease can expire, exits, and writes nothing once the link is back', async () => {
    const s = await prepareScenario('split-brain-all', 10);
    const extra: FaultProxy[] = [];
    const ops: RunningOperator[] = [];
    let changing: { stop(): Promise<number> } | undefined;
    try {
      const { oldLeader, newLeader, holder, churn } = await startPair(s, extra, ops);
      changing = churn();
      await new Promise((r) => setTimeout(r, 3000));
      // Writes the old leader made before the cut, to compare with the new leader's.
      const lastRenew = oldLeader.proxy.log.filter((r) => r.method === 'PUT' && LEASE.test(r.path) && r.status === 200).at(-1);

      // The partition: every connection of the old leader reset, every new request (watches,
      // reads, writes) left unanswered; its lease reads reach the apiserver but are answered 10 s
      // late, past the renew deadline.
      const cutAt = Date.now();
      oldLeader.proxy.addRule({ method: /^GET$/, path: LEASE, action: { kind: 'delay', delayMs: 10_000 } });
      oldLeader.proxy.addRule({ action: { kind: 'blackhole' } });
      oldLeader.proxy.resetAll();
      let exitedAt = 0;
      void new Promise((r) => oldLeader.op.process.once('exit', r)).then(() => (exitedAt = Date.now()));
      // The partition heals 1 s after the old leader stepped down, before its lease can expire.
      await eventually(async () => loggedAt(oldLeader.op, 'lost leadership'), 30_000, 'the old leader to step down');
      await new Promise((r) => setTimeout(r, 1000));
      oldLeader.proxy.clearRules();
      const healedAt = Date.now();
      const takeover = await eventually(async () => (await holder()) === newLeader.identity, 60_000, 'the standby to take the lease').then(() => Date.now());
      await eventually(async () => newLeader.proxy.log.some((r) => isWrite(r) && !LEASE.test(r.path)), 60_000, 'a write by the new leader');
      let gen = await changing.stop();
      await applyStore(s.cluster, s.ns, ++gen);
      const lastChangeAt = Date.now();
      await waitConverged(s, gen, 60_000);
      const exitCode = await eventually(async () => oldLeader.op.process.exitCode ?? undefined, 60_000, 'the old leader to exit')
        .catch(() => 'still running');

      const renewDeadline = (lastRenew?.endedAt ?? 0) + RENEW_DEADLINE_MS;
      const steppedDownAt = loggedAt(oldLeader.op, 'lost leadership');
      const sentAfterCut = oldLeader.proxy.log.filter((r) => r.startedAt >= cutAt);
      // Requests sent before the deadline and still unanswered then (left hanging at the proxy).
      const hangingAtDeadline = oldLeader.proxy.log.filter((r) => r.startedAt <= renewDeadline && (r.endedAt ?? Infinity) > renewDeadline);
      // Attempts count, not only the writes that reached the apiserver: a write left hanging at the
      // proxy could have landed late on a real network.
      const attemptsAfterDeadline = sentAfterCut.filter((r) => isWrite(r) && r.startedAt > renewDeadline + SLACK_MS);
      const leaseAttempts = sentAfterCut.filter((r) => LEASE.test(r.path));
      const reachedAfterHeal = oldLeader.proxy.log.filter((r) => r.startedAt >= healedAt && isWrite(r));
      const oldWrites = oldLeader.proxy.log.filter((r) => isWrite(r) && r.fault === undefined && !LEASE.test(r.path));
      const newWrites = newLeader.proxy.log.filter((r) => isWrite(r) && !LEASE.test(r.path));
      const firstNew = newWrites[0];
      const newLeaseWrite = newLeader.proxy.log.find((r) => r.method === 'PUT' && LEASE.test(r.path) && r.status === 200);
      const overlapping = overlappingObjects(oldWrites, newWrites);
      report('split brain, whole apiserver cut', {
        lastRenewToStepDownMs: steppedDownAt ? steppedDownAt - (lastRenew?.endedAt ?? 0) : 'none logged',
        cutToOldExitMs: exitedAt ? exitedAt - cutAt : 'no exit',
        hangingAtDeadline: hangingAtDeadline.map((r) => `${r.verb} ${r.resource} (${r.fault ?? 'forwarded'}, ended +${r.endedAt ? r.endedAt - renewDeadline : '?'} ms)`),
        lastRenewToOldExitMs: exitedAt ? exitedAt - (lastRenew?.endedAt ?? 0) : 'no exit',
        oldRequestsAfterCut: sentAfterCut.length, oldLeaseAttemptsAfterCut: leaseAttempts.length,
        oldWriteAttemptsAfterRenewDeadline: attemptsAfterDeadline.length,
        cutToTakeoverMs: (newLeaseWrite?.startedAt ?? takeover) - cutAt,
        cutToNewFirstWriteMs: (firstNew?.startedAt ?? 0) - cutAt,
        healToTakeoverMs: takeover - healedAt, oldWritesAfterHeal: reachedAfterHeal.length, overlapping: overlapping.length,
        convergedAfterLastChangeMs: Date.now() - lastChangeAt, exitCode,
      });
      expect(lastRenew).toBeDefined();
      // Not vacuous: the cut leader kept trying its lease until its renew deadline.
      expect(leaseAttempts.length).toBeGreaterThan(0);
      // It gave up at the renew deadline, before the lease could expire for the standby: no write
      // attempted after it, and it was gone before the standby could take the lease.
      expect(attemptsAfterDeadline.map((r) => `${r.method} ${r.path}`)).toEqual([]);
      expect(steppedDownAt).toBeLessThanOrEqual(renewDeadline + SLACK_MS);
      expect(renewDeadline + SLACK_MS).toBeLessThan((lastRenew?.endedAt ?? 0) + LEASE_DURATION_MS);
      expect(newLeaseWrite!.startedAt).toBeGreaterThan(steppedDownAt ?? Infinity);
      // Once the link was back, the old leader wrote nothing: not the Secrets, not the lease.
      expect(reachedAfterHeal.map((r) => `${r.method} ${r.path}`)).toEqual([]);
      expect(overlapping).toEqual([]);
      expect(exitCode).toBe(1);
      expect(blankingsOrDeletions(s)).toEqual([]);
      expectAlive(newLeader.op);
    } finally {
      await changing?.stop();
      await Promise.all(ops.map((o) => o.stop('SIGKILL')));
      await Promise.all(extra.map((p) => p.close()));
      await s.cleanup();
    }
  }, 170_000);
});

/** Objects both replicas wrote, where some write of the old leader came after one of the new leader. */
function overlappingObjects(oldWrites: RequestRecord[], newWrites: RequestRecord[]): string[] {
  return [...new Set(newWrites.map(objectOf))].filter((obj) => {
    const oldLast = oldWrites.filter((r) => objectOf(r) === obj).at(-1);
    const newFirst = newWrites.find((r) => objectOf(r) === obj);
    return oldLast && newFirst && oldLast.startedAt >= newFirst.startedAt;
  });
}

/** When the operator first logged a line containing `msg` (its JSON log's `time`), or undefined. */
function loggedAt(op: RunningOperator, msg: string): number | undefined {
  for (const line of op.output().split('\n')) {
    if (!line.includes(msg)) continue;
    const time = (JSON.parse(line) as { time?: number }).time;
    if (typeof time === 'number') return time;
  }
  return undefined;
}
