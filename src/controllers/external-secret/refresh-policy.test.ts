import { computeJitterFraction, computeReadMaxAge, computeRefreshDelay, JITTER_FRACTION, shouldRefresh, STORE_SPREAD_FRACTION, type RefreshState } from './refresh-policy.js';

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
});
