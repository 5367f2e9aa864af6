/** A key with its two numbers, as `peek` and `pop` hand it out. */
export interface HeapEntry<K> {
  readonly key: K;
  readonly first: number;
  readonly second: number;
}

const MIN_CAPACITY = 16;

/**
 * A binary min-heap of keys, each with two numbers, ordered by the first number and then the
 * second (the smallest pair on top), and addressable by key: insert, update, delete and pop are
 * O(log n), lookup and peek O(1).
 *
 * The numbers live in two Float64Arrays, grown by doubling and halved when a quarter full, rather
 * than in an object per entry: at 10,000 keys an entry object, a value object and a boxed number
 * took ~100 bytes per key, the arrays take 16 (plus the key's slot and its Map entry). Hand-written:
 * the npm heaps we looked at (heap-js, flatqueue, @datastructures-js/priority-queue, mnemonist)
 * either hold an object per entry or cannot update or delete by key.
 */
export class IndexedHeap<K> {
  private readonly keys: K[] = [];
  private readonly index = new Map<K, number>();
  private firsts = new Float64Array(MIN_CAPACITY);
  private seconds = new Float64Array(MIN_CAPACITY);

  get size(): number {
    return this.keys.length;
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  /** `key`'s first number, or undefined when it is not in the heap. */
  first(key: K): number | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.firsts[i];
  }

  /** `key`'s second number, or undefined when it is not in the heap. */
  second(key: K): number | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.seconds[i];
  }

  peek(): HeapEntry<K> | undefined {
    return this.keys.length > 0 ? this.entryAt(0) : undefined;
  }

  /** Inserts `key`, or replaces its numbers and restores heap order. */
  set(key: K, first: number, second: number): void {
    const at = this.index.get(key);
    if (at !== undefined) {
      this.place(at, key, first, second);
      this.restore(at);
      return;
    }
    const i = this.keys.length;
    if (i === this.firsts.length) this.resize(2 * i);
    this.keys.push(key);
    this.place(i, key, first, second);
    this.siftUp(i);
  }

  pop(): HeapEntry<K> | undefined {
    if (this.keys.length === 0) return undefined;
    const top = this.entryAt(0);
    this.removeAt(0);
    return top;
  }

  delete(key: K): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  clear(): void {
    this.keys.length = 0;
    this.index.clear();
    this.resize(MIN_CAPACITY);
  }

  private removeAt(i: number): void {
    this.index.delete(this.keys[i] as K);
    const last = this.keys.length - 1;
    const lastKey = this.keys.pop() as K;
    if (i !== last) {
      this.place(i, lastKey, this.firsts[last] as number, this.seconds[last] as number);
      this.restore(i);
    }
    const capacity = this.firsts.length;
    if (capacity > MIN_CAPACITY && this.keys.length < capacity / 4) this.resize(capacity / 2);
  }

  private resize(capacity: number): void {
    const size = this.keys.length;
    const firsts = new Float64Array(capacity);
    const seconds = new Float64Array(capacity);
    firsts.set(this.firsts.subarray(0, size));
    seconds.set(this.seconds.subarray(0, size));
    this.firsts = firsts;
    this.seconds = seconds;
    // Setting the length trims an array's backing store; popping (in optimised code) does not:
    // a queue that held 10,000 keys at start-up kept their 80 KB of slots once empty.
    this.keys.length = size;
  }

  /** Puts `key` and its numbers at position `i` (heap order is the caller's to restore). */
  private place(i: number, key: K, first: number, second: number): void {
    this.keys[i] = key;
    this.firsts[i] = first;
    this.seconds[i] = second;
    this.index.set(key, i);
  }

  private restore(i: number): void {
    if (i > 0 && this.less(i, (i - 1) >> 1)) this.siftUp(i);
    else this.siftDown(i);
  }

  private siftUp(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(start: number): void {
    let i = start;
    for (;;) {
      const smallest = this.smallestOf(i);
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private smallestOf(i: number): number {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = i;
    if (left < this.keys.length && this.less(left, smallest)) smallest = left;
    if (right < this.keys.length && this.less(right, smallest)) smallest = right;
    return smallest;
  }

  /** Whether the entry at position `a` goes before the one at `b`. */
  private less(a: number, b: number): boolean {
    const fa = this.firsts[a] as number;
    const fb = this.firsts[b] as number;
    return fa < fb || (fa === fb && (this.seconds[a] as number) < (this.seconds[b] as number));
  }

  private swap(a: number, b: number): void {
    const ka = this.keys[a] as K;
    const fa = this.firsts[a] as number;
    const sa = this.seconds[a] as number;
    this.place(a, this.keys[b] as K, this.firsts[b] as number, this.seconds[b] as number);
    this.place(b, ka, fa, sa);
  }

  private entryAt(i: number): HeapEntry<K> {
    return { key: this.keys[i] as K, first: this.firsts[i] as number, second: this.seconds[i] as number };
  }
}
