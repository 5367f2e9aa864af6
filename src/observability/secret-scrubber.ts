/**
 * Remembers every secret value Lockstep has fetched and removes them (raw, base64 and JSON-escaped)
 * from any text before it leaves the process. Field-name redaction alone is not enough: a value can
 * travel inside an error message from an SDK or the API server.
 *
 * Cost and memory are bounded:
 * - scrubbing is one pass over the text (string-matcher.ts): its cost grows with the text and the
 *   number of distinct value lengths, not with the number of values.
 * - values are held as hashes, never as text: about 120 bytes per form, whatever its length, in
 *   typed-array tables and one flat array per owner (about 0.85 KB per ExternalSecret with three
 *   distinct values; Maps took 215 bytes a form, 1.55 KB per ExternalSecret, the trie before them
 *   80 KB).
 * - every value has owners: the ExternalSecret whose reconcile fetched it (taken from the async
 *   context, see `withOwner`), or a store's client for its credentials and tokens. `forget(owner)`
 *   drops what only that owner held: an ExternalSecret's values go when it is deleted, a client's
 *   credentials when it is closed. An ExternalSecret keeps the values of its last two reads
 *   (`readDone`), so rotated-away values do not pile up; other owners keep at most MAX_PER_OWNER
 *   forms (least recently added dropped first: expired tokens), values without an owner MAX_UNOWNED.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { HashedMatcher, MIN_MATCH_LENGTH } from './string-matcher.js';

export const REDACTED = '[REDACTED]';
const UNOWNED = '';
const MAX_PER_OWNER = 65_536;
const MAX_UNOWNED = 16_384;
/** Owners with up to this many forms keep them in arrays (a Map costs several times more). */
const SMALL_OWNER = 32;

/** Registers values on behalf of one owner. */
export interface ScrubberView {
  add(value: string | Uint8Array): void;
  scrub(text: string): string;
}

/**
 * One owner's forms, each with the tick it was last added at, and the ticks at which the owner's
 * last two reads were done (see `readDone`). Most owners hold a handful: one flat array,
 * [lastRead, previousRead, hash, tick, hash, tick, …] (about 30 bytes a form with the array's
 * header; two arrays and an object took twice that). Past SMALL_OWNER forms, a Map.
 */
type SmallOwner = number[];
interface LargeOwner {
  forms: Map<number, number>;
  lastRead: number;
  previousRead: number;
}
type OwnerForms = SmallOwner | LargeOwner;
const LAST_READ = 0;
const PREVIOUS_READ = 1;
const FIRST_FORM = 2;

export class SecretScrubber implements ScrubberView {
  /** Every form held, counted once per owner holding it. */
  private readonly matcher = new HashedMatcher();
  private readonly byOwner = new Map<string, OwnerForms>();
  private readonly context = new AsyncLocalStorage<string>();
  private tick = 0;

  constructor(private readonly limits: { perOwner?: number; unowned?: number } = {}) {}

  /** Register a fetched value (and its encodings). Cheap to call repeatedly with the same value. */
  add(value: string | Uint8Array, owner: string = this.context.getStore() ?? UNOWNED): void {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    for (const form of encodings(text)) if (form.length >= MIN_MATCH_LENGTH) this.hold(form, owner);
  }

  /**
   * Marks that the owner (the async context's) has just read and added every value it holds. What
   * neither this read nor the one before it added is forgotten: values rotated away two reads ago.
   * (Keeping the previous read's values covers a rotated-away value still in flight, e.g. in a
   * write that failed.) Owners that never call this keep their newest MAX_PER_OWNER forms.
   */
  readDone(owner: string = this.context.getStore() ?? UNOWNED): void {
    const forms = this.byOwner.get(owner);
    if (!forms) return;
    const tick = ++this.tick;
    let keepAfter: number;
    if (Array.isArray(forms)) {
      keepAfter = forms[PREVIOUS_READ] as number;
      forms[PREVIOUS_READ] = forms[LAST_READ] as number;
      forms[LAST_READ] = tick;
    } else {
      keepAfter = forms.previousRead;
      forms.previousRead = forms.lastRead;
      forms.lastRead = tick;
    }
    this.dropUpTo(owner, forms, keepAfter);
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
    if (!Array.isArray(forms)) for (const hash of forms.forms.keys()) this.matcher.remove(hash);
    else for (let i = FIRST_FORM; i < forms.length; i += 2) this.matcher.remove(forms[i] as number);
  }

  /** Distinct forms remembered. */
  get size(): number {
    return this.matcher.size;
  }

  scrub(text: string): string {
    if (this.matcher.size === 0 || text.length < MIN_MATCH_LENGTH) return text;
    const ranges = this.matcher.ranges(text);
    // Base64 is held without padding: a padded occurrence's "=" or "==" goes with it.
    for (const range of ranges) {
      const start = range[1];
      while (range[1] < text.length && range[1] - start < 2 && text[range[1]] === '=') range[1] += 1;
    }
    return redact(text, ranges);
  }

  private hold(form: string, owner: string): void {
    let forms = this.byOwner.get(owner);
    if (!forms) this.byOwner.set(owner, (forms = [0, 0]));
    const tick = ++this.tick;
    const hash = this.matcher.hashOf(form);
    let size: number;
    if (Array.isArray(forms)) {
      for (let i = FIRST_FORM; i < forms.length; i += 2) {
        if (forms[i] !== hash) continue;
        forms[i + 1] = tick;
        return;
      }
      this.matcher.add(form);
      forms.push(hash, tick);
      size = (forms.length - FIRST_FORM) / 2;
      if (size > SMALL_OWNER) {
        const large: LargeOwner = { forms: new Map(), lastRead: forms[LAST_READ] as number, previousRead: forms[PREVIOUS_READ] as number };
        for (let i = FIRST_FORM; i < forms.length; i += 2) large.forms.set(forms[i] as number, forms[i + 1] as number);
        this.byOwner.set(owner, (forms = large));
      }
    } else {
      if (!forms.forms.has(hash)) this.matcher.add(form);
      forms.forms.set(hash, tick);
      size = forms.forms.size;
    }
    const max = owner === UNOWNED ? (this.limits.unowned ?? MAX_UNOWNED) : (this.limits.perOwner ?? MAX_PER_OWNER);
    if (size <= max) return;
    // Over the limit: drop the least recently added, down to 7/8 of it (so this runs once per max/8 adds).
    const ticks = Array.isArray(forms) ? forms.filter((_, i) => i >= FIRST_FORM && i % 2 === 1) : [...forms.forms.values()];
    ticks.sort((a, b) => a - b);
    this.dropUpTo(owner, forms, ticks[size - Math.floor((max * 7) / 8) - 1] as number);
  }

  /** Drops the owner's forms last added at or before `tick`. */
  private dropUpTo(owner: string, forms: OwnerForms, tick: number): void {
    let left: number;
    if (!Array.isArray(forms)) {
      for (const [hash, at] of forms.forms) {
        if (at > tick) continue;
        forms.forms.delete(hash);
        this.matcher.remove(hash);
      }
      left = forms.forms.size;
    } else {
      let kept = FIRST_FORM;
      for (let i = FIRST_FORM; i < forms.length; i += 2) {
        const hash = forms[i] as number;
        const at = forms[i + 1] as number;
        if (at <= tick) {
          this.matcher.remove(hash);
          continue;
        }
        forms[kept++] = hash;
        forms[kept++] = at;
      }
      forms.length = kept;
      left = (kept - FIRST_FORM) / 2;
    }
    if (left === 0) this.byOwner.delete(owner);
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
  if (!text.includes('\n')) {
    const trimmed = text.trim();
    if (trimmed !== text && trimmed.length >= 8) forms.push(trimmed);
    return forms;
  }
  for (const line of text.split('\n')) if (line.trim().length >= 8) forms.push(line.trim());
  return forms;
}
