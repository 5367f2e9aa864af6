import { computeJitterFraction, computeRefreshDelay, JITTER_FRACTION, shouldRefresh, type RefreshState } from './refresh-policy.js';

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

  it('schedules a periodic refresh within the jittered interval', () => {
    const delay = computeRefreshDelay(base) as number;
    expect(delay).toBeGreaterThanOrEqual(60_000);
    expect(delay).toBeLessThanOrEqual(60_000 * (1 + JITTER_FRACTION));
    expect(shouldRefresh({ ...base, now: base.now + delay - 1 })).toBe(false);
    expect(shouldRefresh({ ...base, now: base.now + delay })).toBe(true);
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
});
