import { RefreshTracker } from './refresh-tracker.js';

const STORE = 'SecretStore/team-a/vault';

describe('RefreshTracker', () => {
  it('completes a round when every member read or failed, dated by the oldest read', () => {
    const t = new RefreshTracker();
    t.openRound(STORE, ['team-a/a', 'team-a/b', 'team-a/c'], 1000, 60_000);
    expect(t.recordRead('team-a/a', 990, false)).toBeUndefined();
    expect(t.recordFailure('team-a/b')).toBeUndefined();
    expect(t.lastReadOf('team-a/a')).toBe(990);
    expect(t.recordRead('team-a/c', 1005, true)).toEqual({ store: STORE, time: 990, externalSecrets: 3, changed: 1, failed: 1 });
    expect(t.completedRounds()).toHaveLength(1);
    expect(t.openMembers(STORE)).toBe(0);
  });

  it('reads outside a round only update the last read', () => {
    const t = new RefreshTracker();
    expect(t.recordRead('team-a/x', 5, false)).toBeUndefined();
    expect(t.lastReadOf('team-a/x')).toBe(5);
    expect(t.completedRounds()).toEqual([]);
  });

  it('merges a round opened while the last is still open, keeping the older time', () => {
    const t = new RefreshTracker();
    t.openRound(STORE, ['team-a/a', 'team-a/b'], 1000, 60_000);
    t.recordRead('team-a/a', 1000, false);
    t.openRound(STORE, ['team-a/b', 'team-a/c'], 4000, 60_000);
    expect(t.openMembers(STORE)).toBe(2);
    t.recordRead('team-a/b', 4000, false);
    expect(t.recordRead('team-a/c', 4001, false)).toEqual({ store: STORE, time: 1000, externalSecrets: 3, changed: 0, failed: 0 });
  });

  it('a deleted member leaves its round, which may complete without it', () => {
    const t = new RefreshTracker();
    t.openRound(STORE, ['team-a/a', 'team-a/b'], 1000, 60_000);
    t.recordRead('team-a/a', 1000, false);
    expect(t.forget('team-a/b')).toEqual({ store: STORE, time: 1000, externalSecrets: 1, changed: 0, failed: 0 });
    expect(t.lastReadOf('team-a/b')).toBeUndefined();
  });

  it('drops a round that stayed open longer than its interval, unreported', () => {
    const t = new RefreshTracker();
    t.openRound(STORE, ['team-a/a', 'team-a/stuck'], 1000, 10_000);
    t.recordRead('team-a/a', 1000, false);
    t.openRound(STORE, ['team-a/a'], 20_000, 10_000);
    expect(t.recordRead('team-a/stuck', 20_001, false)).toBeUndefined();
    expect(t.recordRead('team-a/a', 20_002, false)).toEqual({ store: STORE, time: 20_000, externalSecrets: 1, changed: 0, failed: 0 });
  });
});
