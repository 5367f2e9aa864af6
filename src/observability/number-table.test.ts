import { NumberTable } from './number-table.js';

describe('NumberTable', () => {
  it('agrees with a Map through random inserts, counts and removals, growing and shrinking', () => {
    const table = new NumberTable();
    const model = new Map<number, { value: number; count: number }>();
    const keys = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? i : Math.floor(Math.random() * 2 ** 51)));
    for (let step = 0; step < 40_000; step++) {
      const key = keys[Math.floor(Math.random() * (step < 20_000 ? keys.length : 40))] as number;
      if (Math.random() < (step < 20_000 ? 0.7 : 0.2)) {
        const slot = table.insert(key, key / 3);
        table.addCount(slot, 1);
        const entry = model.get(key) ?? { value: key / 3, count: 0 };
        entry.count++;
        model.set(key, entry);
      } else {
        expect(table.decrement(key)).toBe(Math.max((model.get(key)?.count ?? 0) - 1, 0));
        const entry = model.get(key);
        if (entry && --entry.count <= 0) model.delete(key);
      }
    }
    expect(table.size).toBe(model.size);
    for (const key of keys) {
      const slot = table.find(key);
      const entry = model.get(key);
      expect(slot >= 0).toBe(entry !== undefined);
      if (entry) expect(table.value(slot)).toBe(entry.value);
    }
    const seen = new Map<number, number>();
    table.forEach((key, _value, count) => seen.set(key, count));
    expect(seen).toEqual(new Map([...model].map(([k, e]) => [k, e.count])));
  });

  it('keeps counts only when made without values', () => {
    const table = new NumberTable(false);
    expect(table.increment(2 ** 40 + 5)).toBe(1);
    expect(table.increment(2 ** 40 + 5)).toBe(2);
    expect(table.decrement(2 ** 40 + 5)).toBe(1);
    expect(table.decrement(2 ** 40 + 5)).toBe(0);
    expect(table.find(2 ** 40 + 5)).toBe(-1);
    expect(table.decrement(7)).toBe(0);
    expect(table.size).toBe(0);
  });
});
