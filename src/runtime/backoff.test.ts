import { computeBackoff, jitter } from './backoff.js';

describe('jitter', () => {
  it('spreads a delay within ±fraction using the injected random source', () => {
    expect(jitter(1000, 0.1, () => 0)).toBe(900);
    expect(jitter(1000, 0.1, () => 0.5)).toBe(1000);
    expect(jitter(1000, 0.1, () => 0.999)).toBeCloseTo(1099.8);
  });

  it('leaves the delay alone when the fraction is zero and never goes negative', () => {
    expect(jitter(1000, 0, () => 0)).toBe(1000);
    expect(jitter(-5, 0.5, () => 0)).toBe(0);
    expect(jitter(1000, 3, () => 0)).toBe(0);
  });
});

describe('computeBackoff', () => {
  const opts = { baseMs: 5, maxMs: 1000, jitter: 0 };

  it('doubles per attempt from the base delay', () => {
    expect([0, 1, 2, 3, 4].map((a) => computeBackoff(a, opts))).toEqual([5, 10, 20, 40, 80]);
  });

  it('caps at maxMs, even for huge attempt counts', () => {
    expect(computeBackoff(8, opts)).toBe(1000);
    expect(computeBackoff(5000, opts)).toBe(1000);
  });

  it('treats a negative attempt as the first', () => {
    expect(computeBackoff(-3, opts)).toBe(5);
  });

  it('applies jitter after the cap', () => {
    expect(computeBackoff(20, { ...opts, jitter: 0.2 }, () => 0)).toBe(800);
    expect(computeBackoff(1, { ...opts, jitter: 0.2 }, () => 0.5)).toBe(10);
  });
});
