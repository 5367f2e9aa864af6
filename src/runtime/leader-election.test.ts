import { FakeClock, flushMicrotasks } from './fake-clock.js';
import { findLeaseSpecIssues, LeaderElector, microTime, type LeaderCallbacks } from './leader-election.js';
import { FakeLeaseStore, type FakeLeaseClient } from './testing/fake-lease-client.js';
import { buildMemoryLogger } from './testing/memory-logger.js';

const NS = 'lockstep-system';
const NAME = 'lockstep-leader';

interface Replica {
  readonly identity: string;
  readonly client: FakeLeaseClient;
  readonly elector: LeaderElector;
  readonly events: string[];
  readonly stop: AbortController;
  leaderSignal?: AbortSignal;
  run: Promise<void>;
}

function startReplica(store: FakeLeaseStore, clock: FakeClock, identity: string, work?: (s: AbortSignal) => Promise<void>): Replica {
  const client = store.client();
  const elector = new LeaderElector({
    kube: client, namespace: NS, name: NAME, identity, clock, log: buildMemoryLogger().log, random: () => 0.5,
  });
  const replica = { identity, client, elector, events: [] as string[], stop: new AbortController() } as Replica;
  const callbacks: LeaderCallbacks = {
    onStartedLeading: (signal) => {
      replica.leaderSignal = signal;
      replica.events.push(`started@${clock.now()}`);
      return work?.(signal);
    },
    onStoppedLeading: () => void replica.events.push(`stopped@${clock.now()}`),
  };
  replica.run = replica.elector.run(replica.stop.signal, callbacks);
  return replica;
}

function lease(store: FakeLeaseStore) {
  return store.peek(NAME, NS)?.spec as Record<string, unknown> | undefined;
}

/** Advances in steps so each replica's loop interleaves as it would in real time. */
async function advance(clock: FakeClock, ms: number, step = 500): Promise<void> {
  for (let done = 0; done < ms; done += step) await clock.advance(Math.min(step, ms - done));
}

describe('LeaderElector', () => {
  it('creates the lease when none exists, leads, and renews every retry period', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const a = startReplica(store, clock, 'pod-a');
    await flushMicrotasks();
    expect(a.events).toEqual(['started@0']);
    expect(a.elector.isLeader()).toBe(true);
    expect(lease(store)).toMatchObject({
      holderIdentity: 'pod-a', leaseDurationSeconds: 15, leaseTransitions: 0,
      acquireTime: microTime(0), renewTime: '1970-01-01T00:00:00.000000Z',
    });
    await advance(clock, 6000);
    expect(lease(store)).toMatchObject({ holderIdentity: 'pod-a', acquireTime: microTime(0), renewTime: microTime(6000) });
    expect(store.writes).toHaveLength(4);
    a.stop.abort();
    await a.run;
  });

  it('lets only one of two competing replicas lead while the leader renews', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const a = startReplica(store, clock, 'pod-a');
    const b = startReplica(store, clock, 'pod-b');
    await advance(clock, 60_000);
    const leaders = [a, b].filter((r) => r.elector.isLeader());
    expect(leaders).toHaveLength(1);
    const standby = leaders[0] === a ? b : a;
    expect(standby.events).toEqual([]);
    expect(standby.elector.observedLeader()).toBe(leaders[0]?.identity);
    for (const r of [a, b]) r.stop.abort();
    await Promise.all([a.run, b.run]);
  });

  it('steps down after the renew deadline and a standby takes over once the lease expires', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const a = startReplica(store, clock, 'pod-a');
    await flushMicrotasks();
    const b = startReplica(store, clock, 'pod-b');
    await advance(clock, 4000, 100);
    const lastRenew = Date.parse(String(lease(store)?.renewTime));
    expect(lastRenew).toBe(4000);
    a.client.mode = 'fail';

    await advance(clock, 10_000, 100);
    expect(a.leaderSignal?.aborted).toBe(true);
    expect(a.events).toEqual(['started@0', 'stopped@14000']);
    await a.run;
    expect(b.events).toEqual([]);

    // The standby counts the lease duration from when it saw the last renewal (up to one retry
    // period late), then takes over at its next attempt.
    await advance(clock, 8000, 100);
    expect(b.events).toHaveLength(1);
    const takenAt = Number(b.events[0]?.split('@')[1]);
    expect(takenAt).toBeGreaterThanOrEqual(lastRenew + 15_000);
    expect(takenAt).toBeLessThanOrEqual(lastRenew + 15_000 + 2 * 2_000);
    expect(lease(store)).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 1 });
    b.stop.abort();
    await b.run;
  });

  it('steps down when a renewal hangs past the renew deadline', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const a = startReplica(store, clock, 'pod-a');
    await flushMicrotasks();
    a.client.mode = 'hang';
    await advance(clock, 12_000, 100);
    expect(a.events).toEqual(['started@0', 'stopped@10000']);
    expect(a.elector.isLeader()).toBe(false);
    await a.run;
  });

  it('writes nothing when a lease read that timed out answers late, after it stepped down', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const a = startReplica(store, clock, 'pod-a');
    await flushMicrotasks();
    a.client.mode = 'hold'; // the partition: renewals are sent but not answered
    await advance(clock, 11_000, 100);
    expect(a.events).toEqual(['started@0', 'stopped@10000']);
    const writes = store.writes.length;
    a.client.mode = 'ok';
    a.client.releaseHeld(); // it heals before the lease (15 s) expires: the late answers arrive
    await advance(clock, 1_000, 100);
    await a.run;
    expect(store.writes.slice(writes).map((w) => w.spec)).toEqual([]);
  });

  it('judges expiry by its own observation time, not the holder\'s renewTime', async () => {
    const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
    const store = new FakeLeaseStore();
    store.insert(
      { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
      {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: NAME, namespace: NS },
        spec: { holderIdentity: 'ghost', leaseDurationSeconds: 15, renewTime: '2000-01-01T00:00:00.000000Z', leaseTransitions: 4 },
      },
    );
    const start = clock.now();
    const b = startReplica(store, clock, 'pod-b');
    await advance(clock, 14_000);
    expect(b.events).toEqual([]);
    await advance(clock, 4_000);
    expect(b.events).toHaveLength(1);
    expect(Number(b.events[0]?.split('@')[1]) - start).toBeGreaterThanOrEqual(15_000);
    expect(lease(store)).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 5 });
    b.stop.abort();
    await b.run;
  });

  it('on shutdown waits for the leader work, releases the lease, and a standby takes over quickly', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    let finishWork!: () => void;
    const order: string[] = [];
    const a = startReplica(store, clock, 'pod-a', async (signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => void (finishWork = resolve)));
      order.push(`work finished, holder=${String(lease(store)?.holderIdentity)}`);
    });
    await flushMicrotasks();
    const b = startReplica(store, clock, 'pod-b');
    await advance(clock, 5000);
    a.stop.abort();
    await flushMicrotasks();
    expect(a.events).toEqual(['started@0']);
    finishWork();
    await a.run;
    expect(order).toEqual(['work finished, holder=pod-a']);
    expect(a.events).toEqual(['started@0', 'stopped@5000']);
    expect(lease(store)).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });

    await advance(clock, 2_000, 100);
    expect(b.events).toEqual(['started@6000']);
    expect(lease(store)).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 1 });
    b.stop.abort();
    await b.run;
  });

  it('returns without leading when stopped while campaigning', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const a = startReplica(store, clock, 'pod-a');
    await flushMicrotasks();
    const b = startReplica(store, clock, 'pod-b');
    await advance(clock, 3000);
    b.stop.abort();
    await b.run;
    expect(b.events).toEqual([]);
    expect(lease(store)?.holderIdentity).toBe('pod-a');
    a.stop.abort();
    await a.run;
  });

  it('reads a lease spec only if each field it uses is absent, null or of its type', () => {
    expect(findLeaseSpecIssues({})).toEqual([]);
    expect(findLeaseSpecIssues({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: null, leaseTransitions: 0, other: [1] })).toEqual([]);
    expect(findLeaseSpecIssues({ holderIdentity: 7, leaseDurationSeconds: 1.5, renewTime: {}, leaseTransitions: '2' }))
      .toEqual(['holderIdentity', 'leaseDurationSeconds', 'renewTime', 'leaseTransitions']);
    expect(findLeaseSpecIssues('held')).toEqual(['spec']);
    expect(findLeaseSpecIssues([])).toEqual(['spec']);
  });

  it('treats a malformed lease as free', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    store.insert(
      { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
      { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: NAME, namespace: NS }, spec: { holderIdentity: 'ghost', leaseDurationSeconds: '15' } },
    );
    const a = startReplica(store, clock, 'pod-a');
    await advance(clock, 100);
    expect(a.events).toEqual(['started@0']);
    expect(lease(store)).toMatchObject({ holderIdentity: 'pod-a', leaseDurationSeconds: 15 });
    a.stop.abort();
    await a.run;
  });

  it('rejects inconsistent timings', () => {
    const store = new FakeLeaseStore();
    const base = { kube: store.client(), namespace: NS, name: NAME, identity: 'x', clock: new FakeClock(), log: buildMemoryLogger().log };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 5000, renewDeadlineMs: 10_000 })).toThrow(/leaseDurationMs/);
  });
});
