import { MAX_WAIT_INTERVALS, RefreshTracker } from './refresh-tracker.js';

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

  it('drops a round with no member back for an interval, unreported', () => {
    let now = 1000;
    const t = new RefreshTracker(() => now);
    t.openRound(STORE, ['team-a/a', 'team-a/stuck'], 1000, 10_000);
    t.recordRead('team-a/a', 1000, false);
    now = 20_000;
    expect(t.readInRunningRound(STORE, 'team-a/a', now)).toBe(false); // stalled: it holds no one back
    t.openRound(STORE, ['team-a/a'], 20_000, 10_000);
    expect(t.recordRead('team-a/stuck', 20_001, false)).toBeUndefined();
    expect(t.recordRead('team-a/a', 20_002, false)).toEqual({ store: STORE, time: 20_000, externalSecrets: 1, changed: 0, failed: 0 });
  });

  it('tells whether a store round is running: open with members queued, and not stalled', () => {
    let now = 1000;
    const t = new RefreshTracker(() => now);
    expect(t.isRunning(STORE, now)).toBe(false);
    t.openRound(STORE, ['team-a/a', 'team-a/b'], now, 30_000);
    expect(t.isRunning(STORE, now)).toBe(true);
    now = 20_000;
    t.recordRead('team-a/a', now, false);
    expect(t.isRunning(STORE, now)).toBe(true);
    expect(t.isRunning(STORE, 50_001)).toBe(false); // no member back for an interval: stalled
    t.recordRead('team-a/b', now, false);
    expect(t.isRunning(STORE, now)).toBe(false); // complete
  });

  it('keeps a round that outlasts its interval open while members keep coming back; those that read in it wait', () => {
    // A store edit: 3 first syncs at a 30 s interval, worked through in 63 s.
    let now = 1000;
    const t = new RefreshTracker(() => now);
    t.openRound(STORE, ['team-a/a', 'team-a/b', 'team-a/c'], now, 30_000);
    now = 21_000;
    t.recordRead('team-a/a', 1000, false);
    // a's values are due again at ~31 s; b and c are still queued: a waits.
    now = 31_000;
    expect(t.readInRunningRound(STORE, 'team-a/a', now)).toBe(true);
    expect(t.readInRunningRound(STORE, 'team-a/b', now)).toBe(false); // its read is this round's
    now = 45_000;
    t.recordRead('team-a/b', 1000, false);
    t.openRound(STORE, ['team-a/c'], now, 30_000); // later starts merge: the round is not dropped
    expect(t.openMembers(STORE)).toBe(1);
    expect(t.readInRunningRound(STORE, 'team-a/a', now)).toBe(true);
    now = 64_000;
    expect(t.recordRead('team-a/c', 1000, false)).toEqual({ store: STORE, time: 1000, externalSecrets: 3, changed: 0, failed: 0 });
    expect(t.readInRunningRound(STORE, 'team-a/a', now)).toBe(false); // complete: the next round reads everyone
  });

  it('waits for a running round at most until the values are MAX_WAIT_INTERVALS intervals old', () => {
    let now = 1000;
    const t = new RefreshTracker(() => now);
    t.openRound(STORE, ['team-a/a', 'team-a/b'], now, 10_000);
    t.recordRead('team-a/a', 1000, false);
    for (; now < 1000 + MAX_WAIT_INTERVALS * 10_000; now += 5_000) {
      t.openRound(STORE, [`team-a/new-${now}`], now, 10_000); // new ExternalSecrets keep joining
      expect(t.readInRunningRound(STORE, 'team-a/a', now)).toBe(true);
    }
    expect(t.readInRunningRound(STORE, 'team-a/a', now)).toBe(false);
  });

  it('holds back no one outside a round, nor members that did not read in it', () => {
    const now = 5000;
    const t = new RefreshTracker(() => now);
    t.recordRead('team-a/old', 1000, false);
    expect(t.readInRunningRound(STORE, 'team-a/old', now)).toBe(false);
    t.openRound(STORE, ['team-a/a', 'team-a/b'], 2000, 10_000);
    expect(t.readInRunningRound(STORE, 'team-a/old', now)).toBe(false); // read before the round opened
  });
});
