import { buildPendingRollout, owedSince, withoutWorkload } from './pending-rollout.js';

const T0 = '2026-12-02T10:00:00.000Z';
const T1 = '2026-12-02T10:00:30.000Z';
const T2 = '2026-12-02T10:00:30.500Z';

describe('pending rollouts', () => {
  test('a newly owed workload starts its own window, even while an older restart is still owed', () => {
    const afterWebhook = buildPendingRollout(undefined, ['Deployment/notifier'], 'h1', T0);
    expect(afterWebhook).toEqual({ hash: 'h1', since: T0, workloads: ['Deployment/notifier'], owed: [{ workload: 'Deployment/notifier', since: T0 }] });

    const afterDb = buildPendingRollout(afterWebhook ?? undefined, ['Deployment/checkout', 'Deployment/notifier'], 'h2', T1);
    expect(afterDb && owedSince(afterDb, 'Deployment/checkout')).toBe(T1);
    expect(afterDb && owedSince(afterDb, 'Deployment/notifier')).toBe(T0);
    expect(afterDb?.since).toBe(T0);

    // A second change half a second later keeps checkout's window where it started.
    const afterDbAgain = buildPendingRollout(afterDb ?? undefined, ['Deployment/checkout', 'Deployment/notifier'], 'h3', T2);
    expect(afterDbAgain?.hash).toBe('h3');
    expect(afterDbAgain && owedSince(afterDbAgain, 'Deployment/checkout')).toBe(T1);
  });

  test('a rotation that plans nothing keeps what is owed; nothing owed and nothing planned is null', () => {
    const owed = buildPendingRollout(undefined, ['Deployment/a'], 'h1', T0);
    expect(buildPendingRollout(owed ?? undefined, [], 'h2', T1)).toEqual({ hash: 'h2', since: T0, workloads: ['Deployment/a'], owed: [{ workload: 'Deployment/a', since: T0 }] });
    expect(buildPendingRollout(undefined, [], 'h1', T0)).toBeNull();
  });

  test('reads status written before per-workload times existed', () => {
    const old = { hash: 'h1', since: T0, workloads: ['Deployment/a', 'Deployment/b'] };
    expect(owedSince(old, 'Deployment/a')).toBe(T0);
    expect(buildPendingRollout(old, ['Deployment/c'], 'h2', T1)?.owed).toEqual([
      { workload: 'Deployment/a', since: T0 }, { workload: 'Deployment/b', since: T0 }, { workload: 'Deployment/c', since: T1 },
    ]);
  });

  test('removing a restarted workload moves the oldest time to what is still owed', () => {
    const both = buildPendingRollout(buildPendingRollout(undefined, ['Deployment/a'], 'h1', T0) ?? undefined, ['Deployment/b'], 'h2', T1);
    const left = both && withoutWorkload(both, 'Deployment/a');
    expect(left).toEqual({ hash: 'h2', since: T1, workloads: ['Deployment/b'], owed: [{ workload: 'Deployment/b', since: T1 }] });
    expect(left && withoutWorkload(left, 'Deployment/b')).toBeNull();
  });
});
