interface Entry<K, V> {
  readonly key: K;
  value: V;
}

/**
 * A binary min-heap of values addressable by key: insert, update, delete and pop are O(log n),
 * lookup and peek are O(1). `less(a, b)` orders values; the smallest is at the top.
 */
export class IndexedHeap<K, V> {
  private readonly entries: Entry<K, V>[] = [];
  private readonly index = new Map<K, number>();

  constructor(private readonly less: (a: V, b: V) => boolean) {}

  get size(): number {
    return this.entries.length;
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  get(key: K): V | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.entries[i]?.value;
  }

  peek(): Entry<K, V> | undefined {
    return this.entries[0];
  }

  /** Inserts `key`, or replaces its value and restores heap order. */
  set(key: K, value: V): void {
    const i = this.index.get(key);
    if (i === undefined) {
      this.entries.push({ key, value });
      this.index.set(key, this.entries.length - 1);
      this.siftUp(this.entries.length - 1);
      return;
    }
    this.at(i).value = value;
    this.restore(i);
  }

  pop(): Entry<K, V> | undefined {
    const top = this.entries[0];
    if (top) this.removeAt(0);
    return top;
  }

  delete(key: K): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  clear(): void {
    this.entries.length = 0;
    this.index.clear();
  }

  private removeAt(i: number): void {
    const removed = this.at(i);
    const last = this.entries.pop() as Entry<K, V>;
    this.index.delete(removed.key);
    if (removed === last) return;
    this.entries[i] = last;
    this.index.set(last.key, i);
    this.restore(i);
  }

  private restore(i: number): void {
    if (i > 0 && this.less(this.at(i).value, this.at((i - 1) >> 1).value)) this.siftUp(i);
    else this.siftDown(i);
  }

  private siftUp(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.at(i).value, this.at(parent).value)) return;
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
    if (left < this.entries.length && this.less(this.at(left).value, this.at(smallest).value)) smallest = left;
    if (right < this.entries.length && this.less(this.at(right).value, this.at(smallest).value)) smallest = right;
    return smallest;
  }

  private swap(a: number, b: number): void {
    const ea = this.at(a);
    const eb = this.at(b);
    this.entries[a] = eb;
    this.entries[b] = ea;
    this.index.set(eb.key, a);
    this.index.set(ea.key, b);
  }

  /** Indexed access for positions known to be in range. */
  private at(i: number): Entry<K, V> {
    return this.entries[i] as Entry<K, V>;
  }
}
