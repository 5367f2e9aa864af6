/**
 * Remembers every secret value Lockstep has fetched and removes them (raw, base64 and JSON-escaped)
 * from any text before it leaves the process. Field-name redaction alone is not enough: a value can
 * travel inside an error message from an SDK or the API server.
 *
 * Cost and memory are bounded:
 * - scrubbing is one pass over the text (string-matcher.ts): its cost grows with the text and the
 *   number of distinct value lengths, not with the number of values.
 * - values are held as hashes, never as text: a few map entries per form, whatever its length
 *   (about 1.5 KB per ExternalSecret with three distinct values; the trie it replaced took 80 KB).
 * - every value has owners: the ExternalSecret whose reconcile fetched it (taken from the async
 *   context, see `withOwner`), or a store's client for its credentials and tokens. `forget(owner)`
 *   drops what only that owner held: an ExternalSecret's values go when it is deleted, a client's
 *   credentials when it is closed. Each owner keeps at most MAX_PER_OWNER forms (oldest dropped
 *   first: rotated-away values and expired tokens), values without an owner MAX_UNOWNED.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { HashedMatcher, MIN_MATCH_LENGTH } from './string-matcher.js';

export const REDACTED = '[REDACTED]';
const UNOWNED = '';
const MAX_PER_OWNER = 65_536;
const MAX_UNOWNED = 16_384;
/** Owners with up to this many forms keep them in an array (a Set costs several times more). */
const SMALL_OWNER = 32;

/** Registers values on behalf of one owner. */
export interface ScrubberView {
  add(value: string | Uint8Array): void;
  scrub(text: string): string;
}

export class SecretScrubber implements ScrubberView {
  private readonly matcher = new HashedMatcher();
  /** form hash → the owner holding it, or the owners. */
  private readonly holders = new Map<number, string | Set<string>>();
  /** owner → its forms' hashes, oldest first (an array while few: most owners hold a handful). */
  private readonly byOwner = new Map<string, number[] | Set<number>>();
  private readonly context = new AsyncLocalStorage<string>();

  constructor(private readonly limits: { perOwner?: number; unowned?: number } = {}) {}

  /** Register a fetched value (and its encodings). Cheap to call repeatedly with the same value. */
  add(value: string | Uint8Array, owner: string = this.context.getStore() ?? UNOWNED): void {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    for (const form of encodings(text)) if (form.length >= MIN_MATCH_LENGTH) this.hold(this.matcher.hashOf(form), form, owner);
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
    for (const hash of forms) this.release(hash, owner);
  }

  /** Distinct forms remembered. */
  get size(): number {
    return this.holders.size;
  }

  scrub(text: string): string {
    if (this.holders.size === 0 || text.length < MIN_MATCH_LENGTH) return text;
    const ranges = this.matcher.ranges(text);
    // Base64 is held without padding: a padded occurrence's "=" or "==" goes with it.
    for (const range of ranges) {
      const start = range[1];
      while (range[1] < text.length && range[1] - start < 2 && text[range[1]] === '=') range[1] += 1;
    }
    return redact(text, ranges);
  }

  private hold(hash: number, form: string, owner: string): void {
    const forms = this.refresh(owner, hash);
    const holders = this.holders.get(hash);
    if (holders === undefined) {
      this.holders.set(hash, owner);
      this.matcher.add(form);
    } else if (typeof holders === 'string') {
      if (holders !== owner) this.holders.set(hash, new Set([holders, owner]));
    } else {
      holders.add(owner);
    }
    const max = owner === UNOWNED ? (this.limits.unowned ?? MAX_UNOWNED) : (this.limits.perOwner ?? MAX_PER_OWNER);
    const size = Array.isArray(forms) ? forms.length : forms.size;
    if (size <= max) return;
    const oldest = Array.isArray(forms) ? forms.splice(0, size - max) : [...forms].slice(0, size - max);
    for (const h of oldest) {
      if (!Array.isArray(forms)) forms.delete(h);
      this.release(h, owner);
    }
  }

  /** Puts `hash` last among `owner`'s forms (re-adding refreshes its place: the oldest go first). */
  private refresh(owner: string, hash: number): number[] | Set<number> {
    let forms = this.byOwner.get(owner);
    if (!forms) this.byOwner.set(owner, (forms = []));
    if (!Array.isArray(forms)) {
      forms.delete(hash);
      forms.add(hash);
      return forms;
    }
    const at = forms.indexOf(hash);
    if (at === forms.length - 1 && at >= 0) return forms;
    if (at >= 0) forms.splice(at, 1);
    forms.push(hash);
    if (forms.length > SMALL_OWNER) this.byOwner.set(owner, (forms = new Set(forms)));
    return forms;
  }

  private release(hash: number, owner: string): void {
    const holders = this.holders.get(hash);
    if (holders === undefined) return;
    if (typeof holders !== 'string') {
      holders.delete(owner);
      if (holders.size > 1) return;
      const [last] = holders;
      if (last !== undefined) {
        this.holders.set(hash, last);
        return;
      }
    } else if (holders !== owner) {
      return;
    }
    this.holders.delete(hash);
    this.matcher.remove(hash);
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
  // Base64 without its padding: it is also the start of the padded form, so one form finds both.
  const base64 = Buffer.from(text, 'utf8').toString('base64').replace(/=+$/, '');
  const forms = [text, base64, JSON.stringify(text).slice(1, -1)];
  // Each line of a multi-line value (certificates, JSON documents) may be logged alone.
  for (const line of text.split('\n')) if (line.trim().length >= 8) forms.push(line.trim());
  return forms;
}
