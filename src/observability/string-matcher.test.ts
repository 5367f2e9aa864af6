import { HashedMatcher } from './string-matcher.js';

const covered = (text: string, ranges: [number, number][]) => {
  const marks = new Array<boolean>(text.length).fill(false);
  for (const [s, e] of ranges) marks.fill(true, s, e);
  return marks;
};

describe('HashedMatcher', () => {
  it('finds overlapping and nested strings, longest at each start', () => {
    const m = new HashedMatcher();
    for (const w of ['shers', 'hers', 'herself', 'his-x']) m.add(w);
    expect(m.ranges('ushers')).toEqual(expect.arrayContaining([[1, 6], [2, 6]]));
    expect(m.ranges('a his-x b herself')).toEqual([[2, 7], [10, 17]]);
    expect(new HashedMatcher().ranges('anything')).toEqual([]);
  });

  it('agrees with a naive search on random texts', () => {
    const rnd = (n: number) => Array.from({ length: n }, () => 'abc'[Math.floor(Math.random() * 3)]).join('');
    for (let round = 0; round < 300; round++) {
      const words = Array.from({ length: 6 }, () => rnd(4 + Math.floor(Math.random() * 4)));
      const m = new HashedMatcher();
      for (const w of words) m.add(w);
      const text = rnd(60);
      const naive: [number, number][] = [];
      for (const w of words) for (let at = text.indexOf(w); at >= 0; at = text.indexOf(w, at + 1)) naive.push([at, at + w.length]);
      expect(covered(text, m.ranges(text))).toEqual(covered(text, naive));
    }
  });

  it('holds a string once, and forgets it when removed', () => {
    const m = new HashedMatcher();
    const a = m.add('value-one');
    expect(m.add('value-one')).toBe(a);
    const b = m.add('other-value');
    expect(m.size).toBe(2);
    expect(m.add('abc')).toBeUndefined(); // too short to index
    expect(m.ranges('x value-one y')).toEqual([[2, 11]]);
    m.remove(a!);
    m.remove(a!);
    m.remove(b!);
    expect(m.size).toBe(0);
    expect(m.ranges('x value-one other-value')).toEqual([]);
  });

  it('matches any code unit, including astral characters and a value followed by a combining mark', () => {
    const m = new HashedMatcher();
    m.add('pässwörd-😀-1');
    expect(m.ranges('a pässwörd-😀-1\u0301 b')).toEqual([[2, 15]]);
  });

  it('holds a few map entries per string, whatever its length', () => {
    const m = new HashedMatcher();
    for (let i = 0; i < 1000; i++) m.add(`${'x'.repeat(500)}-${i}`);
    expect(m.size).toBe(1000);
    expect(m.ranges(`..${'x'.repeat(500)}-999..`)).toEqual([[2, 506]]);
  });
});
