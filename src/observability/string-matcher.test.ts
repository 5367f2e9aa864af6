import { StringMatcher } from './string-matcher.js';

describe('StringMatcher', () => {
  it('finds overlapping and nested strings and merges their ranges', () => {
    const m = new StringMatcher(['he', 'she', 'hers', 'his']);
    expect(m.ranges('ushers')).toEqual([[1, 6]]);
    expect(m.ranges('a his b he')).toEqual([[2, 5], [8, 10]]);
    expect(new StringMatcher(['bc', 'abcd']).ranges('abcd')).toEqual([[0, 4]]);
    expect(new StringMatcher([]).ranges('anything')).toEqual([]);
  });

  it('agrees with a naive search on random texts', () => {
    const rnd = (n: number) => Array.from({ length: n }, () => 'abc'[Math.floor(Math.random() * 3)]).join('');
    for (let round = 0; round < 200; round++) {
      const words = Array.from({ length: 5 }, () => rnd(1 + Math.floor(Math.random() * 4)));
      const text = rnd(40);
      const covered = new Array<boolean>(text.length).fill(false);
      for (const w of words) for (let at = text.indexOf(w); at >= 0; at = text.indexOf(w, at + 1)) covered.fill(true, at, at + w.length);
      const got = new Array<boolean>(text.length).fill(false);
      for (const [s, e] of new StringMatcher(words).ranges(text)) got.fill(true, s, e);
      expect(got).toEqual(covered);
    }
  });
});
