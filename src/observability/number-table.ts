/**
 * A hash table from non-negative integer keys (below 2^53) to a number and a count, kept in typed
 * arrays: 20 bytes a slot (12 without values), about 36 (22) bytes an entry at the load it keeps
 * (between 3/16 and 3/4; linear probing stays short at 3/4: about 2.5 probes to find a key, 8.5
 * to miss one).
 * A `Map` keyed by such numbers costs about 70 bytes an entry (each key above 2^31 is a boxed
 * double), and the scrubber holds several per secret value.
 *
 * Written by hand: open addressing with linear probing and backward-shift deletion (no
 * tombstones, so a table that churns does not slow down). No npm package keeps a map of doubles in
 * typed arrays with deletion.
 */
const MIN_CAPACITY = 16;

export class NumberTable {
  /** key + 1 (0: empty slot). */
  private keys = new Float64Array(MIN_CAPACITY);
  private values: Float64Array;
  private counts = new Int32Array(MIN_CAPACITY);
  private used = 0;

  /** `withValues: false` keeps keys and counts only (12 bytes a slot). */
  constructor(private readonly withValues = true) {
    this.values = new Float64Array(withValues ? MIN_CAPACITY : 0);
  }

  get size(): number {
    return this.used;
  }

  /** The slot holding `key`, or -1. */
  find(key: number): number {
    const stored = key + 1;
    const mask = this.keys.length - 1;
    for (let i = home(key, mask); ; i = (i + 1) & mask) {
      const k = this.keys[i] as number;
      if (k === stored) return i;
      if (k === 0) return -1;
    }
  }

  /** Adds `key` with `value` and a count of 0 when absent; returns its slot either way. */
  insert(key: number, value = 0): number {
    if ((this.used + 1) * 4 > this.keys.length * 3) this.resize(this.keys.length * 2);
    const stored = key + 1;
    const mask = this.keys.length - 1;
    let i = home(key, mask);
    for (; this.keys[i] !== 0; i = (i + 1) & mask) if (this.keys[i] === stored) return i;
    this.keys[i] = stored;
    if (this.withValues) this.values[i] = value;
    this.counts[i] = 0;
    this.used++;
    return i;
  }

  value(slot: number): number {
    return this.values[slot] ?? 0;
  }

  /** Adds 1 to the count of `key` (inserting it) and returns the new count. */
  increment(key: number): number {
    return this.addCount(this.insert(key), 1);
  }

  /** Takes 1 from the count of `key`, removing it at 0; returns the new count (0 when absent). */
  decrement(key: number): number {
    const slot = this.find(key);
    if (slot < 0) return 0;
    const n = this.addCount(slot, -1);
    if (n <= 0) this.removeAt(slot);
    return Math.max(n, 0);
  }

  /** Adds `delta` to the count at `slot` and returns the new count. */
  addCount(slot: number, delta: number): number {
    return (this.counts[slot] = (this.counts[slot] as number) + delta);
  }

  /** Removes the entry at `slot`; slots found before this are no longer valid. */
  removeAt(slot: number): void {
    const mask = this.keys.length - 1;
    let hole = slot;
    for (let j = (hole + 1) & mask; this.keys[j] !== 0; j = (j + 1) & mask) {
      const h = home((this.keys[j] as number) - 1, mask);
      // The entry at j may move back to the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? h > hole && h <= j : h > hole || h <= j;
      if (stays) continue;
      this.keys[hole] = this.keys[j] as number;
      if (this.withValues) this.values[hole] = this.values[j] as number;
      this.counts[hole] = this.counts[j] as number;
      hole = j;
    }
    this.keys[hole] = 0;
    this.used--;
    if (this.used * 16 < this.keys.length * 3 && this.keys.length > MIN_CAPACITY) this.resize(this.keys.length / 2);
  }

  /** Calls `fn` with every key, its value and its count. */
  forEach(fn: (key: number, value: number, count: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== 0) fn((this.keys[i] as number) - 1, this.values[i] as number, this.counts[i] as number);
  }

  private resize(capacity: number): void {
    const { keys, values, counts } = this;
    this.keys = new Float64Array(capacity);
    this.values = new Float64Array(this.withValues ? capacity : 0);
    this.counts = new Int32Array(capacity);
    this.used = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const slot = this.insert((keys[i] as number) - 1, values[i] ?? 0);
      this.counts[slot] = counts[i] as number;
    }
  }
}

/** The home slot of `key`: its low and high 26 bits mixed, so keys made of two hashes spread well. */
function home(key: number, mask: number): number {
  const low = key % 67_108_864;
  const high = Math.floor(key / 67_108_864);
  return (Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b) >>> 7) & mask;
}
