import { runInFreshNode } from '../runtime/testing/fresh-node.js';
import { internStrings, MAX_POOLED_LENGTH, StringPool } from './string-pool.js';

describe('StringPool', () => {
  it('hands back an equal string and holds each string once', () => {
    const pool = new StringPool();
    expect(pool.intern('SecretSynced-long-enough')).toBe('SecretSynced-long-enough');
    expect(pool.intern(JSON.parse('"SecretSynced-long-enough"') as string)).toBe('SecretSynced-long-enough');
    expect(pool.size).toBe(1);
  });

  it('holds at most two generations of strings', () => {
    const pool = new StringPool(4);
    for (let i = 0; i < 100; i++) {
      expect(pool.intern(`unique-${i}`)).toBe(`unique-${i}`);
      expect(pool.intern('asked-for-often')).toBe('asked-for-often');
      expect(pool.size).toBeLessThanOrEqual(8);
    }
  });
});

describe('internStrings', () => {
  const parsed = (i: number) => JSON.parse(JSON.stringify({
    n: i, flag: true, none: null,
    status: { conditions: [{ reason: 'SecretSynced', lastTransitionTime: '2026-12-03T14:00:00Z' }, 'an item string of some length'] },
    spec: { data: [{ remoteRef: { key: 'app/database-credentials-of-the-team', property: 'password' } }] },
    long: 'x'.repeat(MAX_POOLED_LENGTH + 1),
  })) as Record<string, unknown>;

  it('changes no value, at any depth, and leaves long strings out of the pool', () => {
    const pool = new StringPool();
    const a = parsed(1);
    internStrings(a, pool);
    internStrings(parsed(1), pool);
    expect(a).toEqual(parsed(1));
    expect(pool.size).toBe(5); // reason, time, item, key, property
    internStrings(undefined, pool);
    internStrings('text', pool);
  });

  it('makes parsed objects share their equal strings', () => {
    const { whole, pooled } = runInFreshNode<{ whole: number; pooled: number }>(`
      import { internStrings, MAX_POOLED_LENGTH, StringPool } from './src/kube/string-pool.ts';
      const parsed = ${parsed.toString()};
      const n = 5000;
      const whole = heapCost(() => Array.from({ length: n }, (_, i) => parsed(i)));
      const pool = new StringPool();
      const pooled = heapCost(() => Array.from({ length: n }, (_, i) => {
        const obj = parsed(i);
        internStrings(obj, pool);
        return obj;
      }));
      console.log(JSON.stringify({ whole: whole / n, pooled: pooled / n }));`);
    // Four strings of 12-36 characters (~150 bytes) held once instead of once per object.
    expect(whole - pooled).toBeGreaterThan(120);
  });
});
