/**
 * Aho–Corasick over UTF-16 code units: finds every occurrence of any of many strings in one pass,
 * so the cost of scanning a text does not grow with the number of strings. Built once from a
 * dictionary (linear in its total length). Exact code units on purpose: a secret followed by a
 * combining mark must still be found (grapheme-aware matchers would miss it).
 *
 * Libraries weighed first: `ahocorasick` (npm) builds with Array#shift (quadratic in states) and
 * copies output arrays per state; `modern-ahocorasick` matches whole grapheme clusters.
 */
export class StringMatcher {
  /** Per state: code unit → next state. */
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  /** Per state: length of the longest dictionary string that ends there (0: none). */
  private readonly longest: number[] = [0];

  constructor(strings: Iterable<string>) {
    for (const s of strings) this.insert(s);
    this.link();
  }

  get states(): number {
    return this.next.length;
  }

  private insert(s: string): void {
    if (s.length === 0) return;
    let state = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      let to = this.next[state]?.get(c);
      if (to === undefined) {
        to = this.next.length;
        this.next.push(new Map());
        this.fail.push(0);
        this.longest.push(0);
        this.next[state]?.set(c, to);
      }
      state = to;
    }
    this.longest[state] = Math.max(this.longest[state] ?? 0, s.length);
  }

  /** Failure links, breadth first; `longest` inherits along them (a suffix that is itself a string). */
  private link(): void {
    const queue: number[] = [...(this.next[0]?.values() ?? [])];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      for (const [c, to] of this.next[state] ?? []) {
        let f = this.fail[state] as number;
        while (f > 0 && !this.next[f]?.has(c)) f = this.fail[f] as number;
        const target = this.next[f]?.get(c);
        this.fail[to] = target !== undefined && target !== to ? target : 0;
        this.longest[to] = Math.max(this.longest[to] ?? 0, this.longest[this.fail[to] as number] ?? 0);
        queue.push(to);
      }
    }
  }

  /** Merged [start, end) ranges of `text` covered by any dictionary string, in order. */
  ranges(text: string): [number, number][] {
    const out: [number, number][] = [];
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      while (state > 0 && !this.next[state]?.has(c)) state = this.fail[state] as number;
      state = this.next[state]?.get(c) ?? 0;
      const len = this.longest[state] as number;
      if (len === 0) continue;
      // A longer match may start before ranges already found: swallow them.
      let start = i + 1 - len;
      let end = i + 1;
      for (let last = out.at(-1); last && start <= last[1]; last = out.at(-1)) {
        out.pop();
        start = Math.min(start, last[0]);
        end = Math.max(end, last[1]);
      }
      out.push([start, end]);
    }
    return out;
  }
}
