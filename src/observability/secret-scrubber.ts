/**
 * Remembers every secret value Lockstep has fetched and removes them (raw, base64 and JSON-escaped)
 * from any text before it leaves the process. Field-name redaction alone is not enough: a value can
 * travel inside an error message from an SDK or the API server.
 *
 * Cost and memory are bounded:
 * - scrubbing is one pass over the text (string-matcher.ts): its cost grows with the text and the
 *   number of distinct value lengths, not with the number of values.
 * - values are held as hashes, never as text: about 140 bytes per form, whatever its length, in
 *   typed-array tables (about 0.9 KB per ExternalSecret with three distinct values; Maps took
 *   1.55 KB, the trie before them 80 KB).
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
 * One owner's forms, each with the tick it was last added at: in two arrays while few (most
 * owners hold a handful), in a Map past SMALL_OWNER.
 */
interface OwnerForms {
  hashes: number[];
  ticks: number[];
  large?: Map<number, number>;
  /** Ticks at which the owner's last two reads were done (see `readDone`). */
  lastRead: number;
  previousRead: number;
}

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
    const keepAfter = forms.previousRead;
    forms.previousRead = forms.lastRead;
    forms.lastRead = ++this.tick;
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
    if (forms.large) for (const hash of forms.large.keys()) this.matcher.remove(hash);
    else for (const hash of forms.hashes) this.matcher.remove(hash);
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
    if (!forms) this.byOwner.set(owner, (forms = { hashes: [], ticks: [], lastRead: 0, previousRead: 0 }));
    const tick = ++this.tick;
    const hash = this.matcher.hashOf(form);
    if (forms.large) {
      if (!forms.large.has(hash)) this.matcher.add(form);
      forms.large.set(hash, tick);
    } else {
      const at = forms.hashes.indexOf(hash);
      if (at >= 0) {
        forms.ticks[at] = tick;
        return;
      }
      this.matcher.add(form);
      forms.hashes.push(hash);
      forms.ticks.push(tick);
      if (forms.hashes.length > SMALL_OWNER) {
        forms.large = new Map(forms.hashes.map((h, i) => [h, forms.ticks[i] as number]));
        forms.hashes = [];
        forms.ticks = [];
      }
    }
    const max = owner === UNOWNED ? (this.limits.unowned ?? MAX_UNOWNED) : (this.limits.perOwner ?? MAX_PER_OWNER);
    const size = forms.large ? forms.large.size : forms.hashes.length;
    if (size <= max) return;
    // Over the limit: drop the least recently added, down to 7/8 of it (so this runs once per max/8 adds).
    const ticks = forms.large ? [...forms.large.values()] : [...forms.ticks];
    ticks.sort((a, b) => a - b);
    this.dropUpTo(owner, forms, ticks[size - Math.floor((max * 7) / 8) - 1] as number);
  }

  /** Drops the owner's forms last added at or before `tick`. */
  private dropUpTo(owner: string, forms: OwnerForms, tick: number): void {
    if (forms.large) {
      for (const [hash, at] of forms.large) {
        if (at > tick) continue;
        forms.large.delete(hash);
        this.matcher.remove(hash);
      }
    } else {
      let kept = 0;
      for (let i = 0; i < forms.hashes.length; i++) {
        const hash = forms.hashes[i] as number;
        const at = forms.ticks[i] as number;
        if (at <= tick) {
          this.matcher.remove(hash);
          continue;
        }
        forms.hashes[kept] = hash;
        forms.ticks[kept++] = at;
      }
      forms.hashes.length = kept;
      forms.ticks.length = kept;
    }
    if ((forms.large ? forms.large.size : forms.hashes.length) === 0) this.byOwner.delete(owner);
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
