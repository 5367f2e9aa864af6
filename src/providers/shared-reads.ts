/**
 * The per-store read layer every provider client sits behind:
 * - identical reads in flight are shared, so many ExternalSecrets referencing one remote key cost
 *   one provider call;
 * - a result younger than the caller's `maxAgeMs` is reused, so ExternalSecrets refreshing within
 *   the same refresh round cost one read per distinct key and interval.
 * Failures are never cached. The store's budget (`rateLimit`) is spent by the provider, per API call.
 */
import type { Clock } from '../runtime/clock.js';
import type { CallOptions, SecretsClient } from './provider.js';

interface Entry {
  /** When the provider was asked; then, once settled, when it answered (what maxAgeMs is measured from). */
  at: number;
  askedAt: number;
  result: Promise<unknown>;
  settled: boolean;
}

/** Entries older than this are dropped on the next sweep, whatever callers ask for. */
const MAX_RETENTION_MS = 15 * 60_000;
const SWEEP_EVERY = 1000;

export class SharedReads implements SecretsClient {
  private readonly entries = new Map<string, Entry>();
  private calls = 0;

  constructor(
    private readonly inner: SecretsClient,
    private readonly clock: Clock,
  ) {}

  getSecret: SecretsClient['getSecret'] = (ref, opts) =>
    this.read(`s${ref.metadataPolicy === 'Fetch' ? 'M' : ''}|${ref.key}|${ref.property ?? ''}|${ref.version ?? ''}`, opts, () => this.inner.getSecret(ref, opts));

  getSecretMap: SecretsClient['getSecretMap'] = (ref, opts) =>
    this.read(`m${ref.metadataPolicy === 'Fetch' ? 'M' : ''}|${ref.key}|${ref.property ?? ''}|${ref.version ?? ''}`, opts, () => this.inner.getSecretMap(ref, opts));

  findSecrets: SecretsClient['findSecrets'] = (query, opts) =>
    this.read(`f|${JSON.stringify(query)}`, opts, () => this.inner.findSecrets(query, opts));

  validate(opts: CallOptions): Promise<void> {
    return this.inner.validate(opts);
  }

  close(): Promise<void> {
    this.entries.clear();
    return this.inner.close();
  }

  private read<T>(key: string, opts: CallOptions, call: () => Promise<T>): Promise<T> {
    const now = this.clock.now();
    this.sweep(now);
    const entry = this.entries.get(key);
    if (entry && (!entry.settled || now - entry.at <= (opts.maxAgeMs ?? 0))) {
      opts.readTimes?.push(entry.askedAt);
      return entry.result as Promise<T>;
    }
    opts.readTimes?.push(now);
    const fresh: Entry = { at: now, askedAt: now, settled: false, result: Promise.resolve() };
    fresh.result = call().then(
      (value) => {
        fresh.settled = true;
        fresh.at = this.clock.now();
        return value;
      },
      (err: unknown) => {
        if (this.entries.get(key) === fresh) this.entries.delete(key);
        throw err;
      },
    );
    this.entries.set(key, fresh);
    return fresh.result as Promise<T>;
  }

  /**
   * Drops the settled reads asked at or before `askedUpTo`: the refresh round they were made for
   * is complete, and a later round reads afresh, so they would only hold values in memory.
   */
  dropSettled(askedUpTo: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.settled && entry.askedAt <= askedUpTo) this.entries.delete(key);
    }
  }

  private sweep(now: number): void {
    if (++this.calls % SWEEP_EVERY !== 0) return;
    for (const [key, entry] of this.entries) {
      if (entry.settled && now - entry.at > MAX_RETENTION_MS) this.entries.delete(key);
    }
  }
}
