import { IndexedHeap } from './indexed-heap.js';

describe('IndexedHeap', () => {
  it('pops in order after inserts, updates and deletes (checked against a sorted list)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const heap = new IndexedHeap<string, number>((a, b) => a < b);
    const model = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const key = `k${Math.floor(random() * 500)}`;
      if (random() < 0.25) {
        expect(heap.delete(key)).toBe(model.delete(key));
      } else {
        const value = Math.floor(random() * 1000);
        heap.set(key, value);
        model.set(key, value);
      }
    }
    expect(heap.size).toBe(model.size);
    const popped: number[] = [];
    for (let e = heap.pop(); e; e = heap.pop()) {
      expect(model.get(e.key)).toBe(e.value);
      popped.push(e.value);
    }
    expect(popped).toEqual([...model.values()].sort((a, b) => a - b));
  });

  it('looks up values by key', () => {
    const heap = new IndexedHeap<string, number>((a, b) => a < b);
    heap.set('a', 3);
    heap.set('b', 1);
    expect(heap.get('a')).toBe(3);
    expect(heap.has('c')).toBe(false);
    expect(heap.peek()).toEqual({ key: 'b', value: 1 });
    heap.set('a', 0);
    expect(heap.peek()?.key).toBe('a');
  });
});
