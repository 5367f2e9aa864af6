/**
 * One copy of the strings many cached objects repeat. JSON.parse gives every object its own copy of
 * each string value longer than 10 characters (V8 shares only shorter ones): 10,000 ExternalSecrets
 * held 10,000 copies of a condition's reason, of timestamps written in the same second, of a
 * store's name. The pool hands back the copy it already holds.
 *
 * Bounded: two generations of `capacity` strings. A string not asked for during two generations is
 * no longer held (a store renamed or objects deleted do not pin their strings); what keeps being
 * asked for moves into the current generation. Hand-written: the npm interning packages are a few
 * lines without bounds, and this one is a few lines too.
 */
export class StringPool {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();

  constructor(private readonly capacity = 4096) {}

  /** The pool's copy of `value` (`value` itself the first time). */
  intern(value: string): string {
    const held = this.current.get(value);
    if (held !== undefined) return held;
    const shared = this.previous.get(value) ?? value;
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(shared, shared);
    return shared;
  }

  /** Strings held, in both generations (a string in both counts twice). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** Longer strings are rarely shared (values, messages, hashes): they are left as they are. */
export const MAX_POOLED_LENGTH = 64;

/**
 * Replaces, in place, every string in `value` (object properties and array items, at any depth) of
 * at most MAX_POOLED_LENGTH characters with the pool's copy. For freshly parsed JSON only: it
 * writes to the objects it walks.
 */
export function internStrings(value: unknown, pool: StringPool): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') {
        if (item.length <= MAX_POOLED_LENGTH) value[i] = pool.intern(item);
      } else if (typeof item === 'object' && item !== null) internStrings(item, pool);
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item === 'string') {
      if (item.length <= MAX_POOLED_LENGTH) record[key] = pool.intern(item);
    } else if (typeof item === 'object' && item !== null) internStrings(item, pool);
  }
}
