/**
 * Finds, in one pass over a text, every occurrence of any of many strings, while holding none of
 * them: each string is kept as a 51-bit polynomial hash, with its first four code units
 * ("anchor") and its length to filter the positions worth hashing. Memory is about 70 bytes per
 * string in typed-array tables (number-table.ts), whatever its length, and a heap dump shows no
 * secret held only here.
 *
 * Written by hand: the Aho–Corasick libraries on npm (and our own automaton before this) keep a
 * trie state per code unit, about 80 KB per ExternalSecret with three distinct values (782 MB for
 * 10,000); no library matches by hashes with removal.
 *
 * A hash collision can only make a text range look like a string it is not, so the cost of one
 * is over-redaction, never a leak; with 51 bits and the anchor and length filters, it does not
 * happen in practice. Strings shorter than MIN_MATCH_LENGTH are not indexed.
 */
import { NumberTable } from './number-table.js';

export const MIN_MATCH_LENGTH = 4;

const P1 = 67_108_859; // 2^26 - 5, prime
const P2 = 33_554_393; // 2^25 - 39, prime
const B1 = 65_599;
const B2 = 131_071;
/** Lengths up to this are indexed by anchor; longer strings (not expected: a Secret holds 1 MiB) are searched one by one. */
const MAX_INDEXED_LENGTH = 2 ** 21 - 1;

export class HashedMatcher {
  /** hash → the anchor/length key it is filed under (-1: too long to index), counted per add. */
  private readonly forms = new NumberTable();
  /** anchor → count, and anchor+length → count: which positions and lengths are worth hashing. */
  private readonly anchors = new NumberTable(false);
  private readonly filed = new NumberTable(false);
  /** length → count, and the distinct lengths longest first (rebuilt when they change). */
  private readonly lengths = new Map<number, number>();
  private sortedLengths: number[] | undefined = [];
  /** hash → string, of the strings too long to index (see MAX_INDEXED_LENGTH). */
  private readonly long = new Map<number, string>();
  private readonly powers1: number[] = [1];
  private readonly powers2: number[] = [1];

  /** Distinct strings held. */
  get size(): number {
    return this.forms.size;
  }

  /**
   * Adds `s` and returns its hash (undefined when too short). Strings are counted: one added twice
   * is held until removed twice.
   */
  add(s: string): number | undefined {
    if (s.length < MIN_MATCH_LENGTH) return undefined;
    const hash = this.hashOf(s);
    const known = this.forms.find(hash);
    if (known >= 0) {
      this.forms.addCount(known, 1);
      return hash;
    }
    if (s.length > MAX_INDEXED_LENGTH) {
      this.forms.addCount(this.forms.insert(hash, -1), 1);
      this.long.set(hash, s);
      return hash;
    }
    const filed = fileKey(anchorAt(s, 0), s.length);
    this.forms.addCount(this.forms.insert(hash, filed), 1);
    this.anchors.increment(anchorOfFiled(filed));
    this.filed.increment(filed);
    if (increment(this.lengths, s.length) === 1) this.sortedLengths = undefined;
    return hash;
  }

  /** Takes back one `add` of the string whose hash `add` returned. */
  remove(hash: number): void {
    const slot = this.forms.find(hash);
    if (slot < 0 || this.forms.addCount(slot, -1) > 0) return;
    const filed = this.forms.value(slot);
    this.forms.removeAt(slot);
    if (filed < 0) {
      this.long.delete(hash);
      return;
    }
    this.anchors.decrement(anchorOfFiled(filed));
    this.filed.decrement(filed);
    if (decrement(this.lengths, lengthOfFiled(filed)) === 0) this.sortedLengths = undefined;
  }

  /** The hash that identifies `s` in this index. */
  hashOf(s: string): number {
    let h1 = 0;
    let h2 = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = (h1 * B1 + c) % P1;
      h2 = (h2 * B2 + c) % P2;
    }
    return h1 * P2 + h2;
  }

  /** [start, end) ranges of `text` covered by a held string, longest at each start; unsorted, may overlap. */
  ranges(text: string): [number, number][] {
    const out: [number, number][] = [];
    for (const s of this.long.values()) for (let at = text.indexOf(s); at >= 0; at = text.indexOf(s, at + 1)) out.push([at, at + s.length]);
    if (this.forms.size === this.long.size || text.length < MIN_MATCH_LENGTH) return out;
    let prefix: { h1: Float64Array; h2: Float64Array } | undefined;
    const lengths = this.lengthsLongestFirst();
    for (let i = 0; i + MIN_MATCH_LENGTH <= text.length; i++) {
      const anchor = anchorAt(text, i);
      if (this.anchors.find(anchor) < 0) continue;
      prefix ??= prefixHashes(text);
      for (const length of lengths) {
        if (i + length > text.length || this.filed.find(fileKey(anchor, length)) < 0) continue;
        if (this.forms.find(this.hashAt(prefix, i, length)) >= 0) {
          out.push([i, i + length]);
          break;
        }
      }
    }
    return out;
  }

  private lengthsLongestFirst(): number[] {
    this.sortedLengths ??= [...this.lengths.keys()].sort((a, b) => b - a);
    return this.sortedLengths;
  }

  private hashAt(prefix: { h1: Float64Array; h2: Float64Array }, start: number, length: number): number {
    const end = start + length;
    const h1 = mod((prefix.h1[end] as number) - (prefix.h1[start] as number) * this.power(this.powers1, B1, P1, length), P1);
    const h2 = mod((prefix.h2[end] as number) - (prefix.h2[start] as number) * this.power(this.powers2, B2, P2, length), P2);
    return h1 * P2 + h2;
  }

  /** base^n mod p, memoised (n is a string length). */
  private power(powers: number[], base: number, p: number, n: number): number {
    for (let k = powers.length; k <= n; k++) powers.push(((powers[k - 1] as number) * base) % p);
    return powers[n] as number;
  }
}

function prefixHashes(text: string): { h1: Float64Array; h2: Float64Array } {
  const h1 = new Float64Array(text.length + 1);
  const h2 = new Float64Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1[i + 1] = ((h1[i] as number) * B1 + c) % P1;
    h2[i + 1] = ((h2[i] as number) * B2 + c) % P2;
  }
  return { h1, h2 };
}

/** The first four code units at `i`, mixed into 21 bits. */
function anchorAt(s: string, i: number): number {
  let h = 0x811c9dc5;
  for (let k = i; k < i + MIN_MATCH_LENGTH; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
  return (h >>> 0) & 0x1fffff;
}

function fileKey(anchor: number, length: number): number {
  return anchor * 2 ** 21 + length;
}

function anchorOfFiled(filed: number): number {
  return Math.floor(filed / 2 ** 21);
}

function lengthOfFiled(filed: number): number {
  return filed % 2 ** 21;
}

function mod(x: number, p: number): number {
  const r = x % p;
  return r < 0 ? r + p : r;
}

function increment<K>(map: Map<K, number>, key: K): number {
  const n = (map.get(key) ?? 0) + 1;
  map.set(key, n);
  return n;
}

function decrement<K>(map: Map<K, number>, key: K): number {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
  return Math.max(n, 0);
}
