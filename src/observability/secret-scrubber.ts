/**
 * Remembers every secret value Lockstep has fetched and removes them (raw, base64 and JSON-escaped)
 * from any text before it leaves the process. Field-name redaction alone is not enough: a value can
 * travel inside an error message from an SDK or the API server.
 *
 * Cost and memory are bounded:
 * - scrubbing is one pass of an Aho–Corasick automaton (string-matcher.ts): its cost grows with
 *   the text, not with the number of values. Values added since the last build are checked one by
 *   one until there are REBUILD_AFTER of them; then the automaton is rebuilt (amortised).
 * - every value has owners: the ExternalSecret whose reconcile fetched it (taken from the async
 *   context, see `withOwner`), or a store's client for its credentials and tokens. `forget(owner)`
 *   drops what only that owner held: an ExternalSecret's values go when it is deleted, a client's
 *   credentials when it is closed. Each owner keeps at most MAX_PER_OWNER forms (oldest dropped
 *   first: rotated-away values and expired tokens), values without an owner MAX_UNOWNED.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { StringMatcher } from './string-matcher.js';

const MIN_LENGTH = 4; // shorter strings are too common in ordinary text to scrub safely
export const REDACTED = '[REDACTED]';
const UNOWNED = '';
const REBUILD_AFTER = 64;
const MAX_PER_OWNER = 65_536;
const MAX_UNOWNED = 16_384;

/** Registers values on behalf of one owner. */
export interface ScrubberView {
  add(value: string | Uint8Array): void;
  scrub(text: string): string;
}

export class SecretScrubber implements ScrubberView {
  /** form → the owners holding it. */
  private readonly owners = new Map<string, Set<string>>();
  /** owner → its forms, oldest first. */
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly context = new AsyncLocalStorage<string>();
  private matcher: StringMatcher | undefined;
  /** Forms added since the matcher was built (checked one by one). */
  private readonly pending = new Set<string>();
  /** Forms the matcher still holds although they were forgotten. */
  private stale = 0;

  constructor(private readonly limits: { perOwner?: number; unowned?: number } = {}) {}

  /** Register a fetched value (and its encodings). Cheap to call repeatedly with the same value. */
  add(value: string | Uint8Array, owner: string = this.context.getStore() ?? UNOWNED): void {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    for (const form of encodings(text)) if (form.length >= MIN_LENGTH) this.hold(form, owner);
  }

  /** Runs `fn` with `owner` as the owner of every value added in it (and in what it awaits). */
  withOwner<T>(owner: string, fn: () => T): T {
    return this.context.run(owner, fn);
  }

  /** A view that adds values for `owner` whatever the async context. */
  forOwner(owner: string): ScrubberView {
    return { add: (value) => this.add(value, owner), scrub: (text) => this.scrub(text) };
  }

  /** Forgets what only `owner` held. */
  forget(owner: string): void {
    const forms = this.byOwner.get(owner);
    if (!forms) return;
    this.byOwner.delete(owner);
    for (const form of forms) this.release(form, owner);
  }

  /** Distinct forms remembered. */
  get size(): number {
    return this.owners.size;
  }

  scrub(text: string): string {
    if (this.owners.size === 0 || text.length < MIN_LENGTH) return text;
    if (this.pending.size > REBUILD_AFTER || this.stale > Math.max(REBUILD_AFTER, this.owners.size)) this.rebuild();
    const ranges = this.matcher?.ranges(text) ?? [];
    for (const form of this.pending) {
      for (let at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1)) ranges.push([at, at + form.length]);
    }
    return redact(text, ranges);
  }

  private hold(form: string, owner: string): void {
    const forms = this.byOwner.get(owner) ?? new Set<string>();
    this.byOwner.set(owner, forms);
    forms.delete(form); // re-adding refreshes its place: the oldest forms are dropped first
    forms.add(form);
    let holders = this.owners.get(form);
    if (!holders) {
      holders = new Set();
      this.owners.set(form, holders);
      this.pending.add(form);
    }
    holders.add(owner);
    const max = owner === UNOWNED ? (this.limits.unowned ?? MAX_UNOWNED) : (this.limits.perOwner ?? MAX_PER_OWNER);
    for (const oldest of forms) {
      if (forms.size <= max) break;
      forms.delete(oldest);
      this.release(oldest, owner);
    }
  }

  private release(form: string, owner: string): void {
    const holders = this.owners.get(form);
    holders?.delete(owner);
    if (holders && holders.size > 0) return;
    this.owners.delete(form);
    if (!this.pending.delete(form)) this.stale += 1;
  }

  private rebuild(): void {
    this.matcher = new StringMatcher(this.owners.keys());
    this.pending.clear();
    this.stale = 0;
  }
}

/** `text` with the union of `ranges` replaced by REDACTED (one marker per merged run). */
function redact(text: string, ranges: [number, number][]): string {
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = '';
  let cursor = 0;
  let runEnd = -1;
  for (const [start, end] of ranges) {
    if (start > runEnd) {
      out += text.slice(cursor, start) + REDACTED;
    }
    runEnd = Math.max(runEnd, end);
    cursor = runEnd;
  }
  return out + text.slice(cursor);
}

function encodings(text: string): string[] {
  const base64 = Buffer.from(text, 'utf8').toString('base64');
  const forms = [text, base64, base64.replace(/=+$/, ''), JSON.stringify(text).slice(1, -1)];
  // Each line of a multi-line value (certificates, JSON documents) may be logged alone.
  for (const line of text.split('\n')) if (line.trim().length >= 8) forms.push(line.trim());
  return forms;
}
