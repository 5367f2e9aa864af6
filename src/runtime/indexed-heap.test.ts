import { IndexedHeap } from './indexed-heap.js';

describe('IndexedHeap', () => {
  it('pops in order after inserts, updates and deletes (checked against a sorted list)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const heap = new IndexedHeap<string>();
    const model = new Map<string, [number, number]>();
    for (let i = 0; i < 5000; i++) {
      const key = `k${Math.floor(random() * 500)}`;
      if (random() < 0.25) {
        expect(heap.delete(key)).toBe(model.delete(key));
      } else {
        // few distinct first numbers, so that the second one decides often
        const pair: [number, number] = [Math.floor(random() * 20), Math.floor(random() * 1000)];
        heap.set(key, ...pair);
        model.set(key, pair);
      }
    }
    expect(heap.size).toBe(model.size);
    const popped: [number, number][] = [];
    for (let e = heap.pop(); e; e = heap.pop()) {
      expect(model.get(e.key)).toEqual([e.first, e.second]);
      popped.push([e.first, e.second]);
    }
    expect(popped).toEqual([...model.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
  });

  it('looks up numbers by key', () => {
    const heap = new IndexedHeap<string>();
    heap.set('a', 3, 0);
    heap.set('b', 1, 0);
    expect(heap.first('a')).toBe(3);
    expect(heap.second('a')).toBe(0);
    expect(heap.has('c')).toBe(false);
    expect(heap.first('c')).toBeUndefined();
    expect(heap.peek()).toEqual({ key: 'b', first: 1, second: 0 });
    heap.set('a', 0, 5);
    expect(heap.peek()).toEqual({ key: 'a', first: 0, second: 5 });
    heap.set('b', 0, 4);
    expect(heap.peek()?.key).toBe('b');
  });

  it('grows past its initial capacity and shrinks back, keeping every key and its order', () => {
    const heap = new IndexedHeap<number>();
    const n = 10_000;
    for (let i = 0; i < n; i++) heap.set(i, (i * 7919) % n, 0);
    expect(heap.size).toBe(n);
    for (let i = 0; i < n; i += 2) expect(heap.delete(i)).toBe(true);
    let previous = -1;
    for (let e = heap.pop(); e; e = heap.pop()) {
      expect(e.key % 2).toBe(1);
      expect(e.first).toBeGreaterThan(previous);
      expect(e.first).toBe((e.key * 7919) % n);
      previous = e.first;
    }
    expect(heap.size).toBe(0);
    heap.set(1, 1, 1);
    expect(heap.pop()).toEqual({ key: 1, first: 1, second: 1 });
    heap.set(2, 2, 2);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.has(2)).toBe(false);
  });
});
