import { computeBackoffMs } from './backoff-policy.js';

describe('computeBackoffMs', () => {
  it('doubles from the base up to the cap', () => {
    const top = () => 1;
    expect([1, 2, 3, 4, 7, 8, 50].map((a) => computeBackoffMs(a, {}, top))).toEqual([500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
  });

  it('jitters down to half', () => {
    expect(computeBackoffMs(1, { baseMs: 100 }, () => 0)).toBe(50);
    expect(computeBackoffMs(0, { baseMs: 100, maxMs: 150 }, () => 0.5)).toBe(75);
  });
});
