import {
  computeJitterFraction, computeQueuedReadMaxAge, computeReadMaxAge, computeRefreshDelay, isIncludedReadCurrent, JITTER_FRACTION, QUEUED_READ_MAX_MS,
  shouldRefresh, STORE_SPREAD_FRACTION, type RefreshState,
} from './refresh-policy.js';

const base: RefreshState = {
  policy: 'Periodic',
  intervalMs: 60_000,
  now: 1_000_000,
  lastRefresh: 1_000_000,
  specVersion: 'a',
  syncedSpecVersion: 'a',
  secretExists: true,
  jitterSeed: 'uid-1',
};

describe('refresh policy', () => {
  it('refreshes a never-synced object and a changed spec at once', () => {
    expect(shouldRefresh({ ...base, lastRefresh: undefined })).toBe(true);
    expect(shouldRefresh({ ...base, specVersion: 'b' })).toBe(true);
  });

  it('schedules a periodic refresh between half an interval and an interval and a half (plus the spread) away', () => {
    const delay = computeRefreshDelay(base) as number;
    expect(delay).toBeGreaterThanOrEqual(30_000);
    expect(delay).toBeLessThanOrEqual(90_000 + 60_000 * STORE_SPREAD_FRACTION);
    expect(shouldRefresh({ ...base, now: base.now + delay - 1 })).toBe(false);
    expect(shouldRefresh({ ...base, now: base.now + delay })).toBe(true);
  });

  it('never splits ExternalSecrets of one store that refreshed at the same moment over two slots', () => {
    for (let t = 0; t < 60_000; t += 250) {
      const dues = Array.from({ length: 40 }, (_, i) => {
        const s = { ...base, jitterSeed: `uid-${i}`, phaseSeed: 'store-a', lastRefresh: base.now + t, now: base.now + t };
        return s.now + (computeRefreshDelay(s) as number);
      });
      expect(Math.max(...dues) - Math.min(...dues)).toBeLessThanOrEqual(60_000 * STORE_SPREAD_FRACTION);
    }
  });

  it('keeps a fixed period once on the grid (no drift)', () => {
    const first = base.now + (computeRefreshDelay(base) as number);
    const next = { ...base, now: first + 1234, lastRefresh: first + 1234 };
    expect(next.now + (computeRefreshDelay(next) as number)).toBe(first + 60_000);
  });

  it('brings the ExternalSecrets of one store together, whenever they last refreshed', () => {
    const dues = Array.from({ length: 50 }, (_, i) => {
      const s = { ...base, jitterSeed: `uid-${i}`, phaseSeed: 'store-a', lastRefresh: base.now + i * 700, now: base.now + i * 700 };
      return s.now + (computeRefreshDelay(s) as number);
    });
    const grid = dues.map((d) => d % 60_000);
    expect(Math.max(...grid) - Math.min(...grid)).toBeLessThanOrEqual(60_000 * JITTER_FRACTION);
  });

  it('gives different stores different phases', () => {
    const phases = Array.from({ length: 20 }, (_, i) => (base.now + (computeRefreshDelay({ ...base, phaseSeed: `store-${i}` }) as number)) % 60_000);
    expect(new Set(phases.map((p) => Math.floor(p / 6_000))).size).toBeGreaterThan(3);
  });

  it('spreads objects created together across the jitter window', () => {
    const fractions = Array.from({ length: 200 }, (_, i) => computeJitterFraction(`uid-${i}`));
    expect(Math.min(...fractions)).toBeLessThan(0.1);
    expect(Math.max(...fractions)).toBeGreaterThan(0.9);
    expect(computeJitterFraction('same')).toBe(computeJitterFraction('same'));
  });

  it('never schedules for interval 0, OnChange or CreatedOnce', () => {
    expect(computeRefreshDelay({ ...base, intervalMs: 0 })).toBeUndefined();
    expect(computeRefreshDelay({ ...base, policy: 'OnChange' })).toBeUndefined();
    expect(shouldRefresh({ ...base, policy: 'OnChange', now: base.now + 10 * 60_000 })).toBe(false);
  });

  it('CreatedOnce refreshes only while the Secret is missing', () => {
    expect(shouldRefresh({ ...base, policy: 'CreatedOnce', now: base.now + 10 * 60_000 })).toBe(false);
    expect(shouldRefresh({ ...base, policy: 'CreatedOnce', secretExists: false })).toBe(true);
  });

  it('lets a late periodic refresh reuse any read made since it came due', () => {
    const due = base.now + (computeRefreshDelay(base) as number);
    expect(computeReadMaxAge({ ...base, now: due })).toBe(6_000);
    expect(computeReadMaxAge({ ...base, now: due + 4_000 })).toBe(10_000);
    expect(computeReadMaxAge({ ...base, lastRefresh: undefined })).toBe(6_000);
  });

  it('lets a queued first sync use the read its round asked for, even once the interval elapsed', () => {
    // A store edit: every ExternalSecret of the store needs a sync of the new spec; the round that
    // included them at `included` asked for their reads; the workers reach the last ones 63 s later.
    const included = base.now;
    const edited = { ...base, intervalMs: 30_000, specVersion: 'b' };
    expect(computeQueuedReadMaxAge({ ...edited, now: included + 1_000 }, included)).toBe(1_000 + 3_000);
    expect(computeQueuedReadMaxAge({ ...edited, now: included + 63_000 }, included)).toBe(63_000 + 3_000);
    expect(isIncludedReadCurrent({ ...edited, now: included + 63_000 }, included)).toBe(true);
    // Not included by a round: what any refresh takes (the read window, here since its periodic due time).
    const late = { ...edited, now: included + 63_000 };
    expect(computeQueuedReadMaxAge(late, undefined)).toBe(computeReadMaxAge(late));
    expect(computeQueuedReadMaxAge({ ...late, lastRefresh: undefined }, undefined)).toBe(3_000);
    // Past the bound the read is stale whatever the queue.
    expect(isIncludedReadCurrent({ ...edited, now: included + QUEUED_READ_MAX_MS + 1 }, included)).toBe(false);
    const stale = { ...edited, now: included + QUEUED_READ_MAX_MS + 1 };
    expect(computeQueuedReadMaxAge(stale, included)).toBe(computeReadMaxAge(stale));
    // A long interval keeps half of it.
    const hourly = { ...edited, intervalMs: 3_600_000 };
    expect(isIncludedReadCurrent({ ...hourly, now: included + 1_800_000 }, included)).toBe(true);
    expect(isIncludedReadCurrent({ ...hourly, now: included + 1_800_001 }, included)).toBe(false);
  });

  it('gives a periodic refresh nothing from an inclusion (it is measured from its due time)', () => {
    const due = base.now + (computeRefreshDelay(base) as number);
    expect(computeQueuedReadMaxAge({ ...base, now: due + 4_000 }, base.now - 100_000)).toBe(computeReadMaxAge({ ...base, now: due + 4_000 }));
  });
});
