/**
 * The per-store read layer every provider client sits behind:
 * - identical reads in flight are shared, so many ExternalSecrets referencing one remote key cost
 *   one provider call;
 * - a result younger than the caller's `maxAgeMs` is reused, so ExternalSecrets refreshing within
 *   the same refresh round cost one read per distinct key and interval;
 * - when the client reads a remote key whole (`readWhole`), every property of a key and version,
 *   the whole value and its map are selected from one read: `username` and `password` of one key
 *   cost one provider call. A selection that fails (a missing property) fails only its caller.
 * Failures are never cached. The store's budget (`rateLimit`) is spent by the provider, per API call.
 */
import type { Clock } from '../runtime/clock.js';
import type { CallOptions, ReadOperation, RemoteRef, SecretsClient, WholeSecret } from './provider.js';

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

  /** The client's read of a remote key whole, when its provider has one. */
  private readonly innerWhole: SecretsClient['readWhole'];

  constructor(
    private readonly inner: SecretsClient,
    private readonly clock: Clock,
  ) {
    this.innerWhole = inner.readWhole?.bind(inner);
  }

  getSecret: SecretsClient['getSecret'] = (ref, opts) =>
    this.innerWhole
      ? this.sharedWhole(this.innerWhole, ref, opts, 'getSecret').then((whole) => whole.value(ref))
      : this.read(`s${metadataFlag(ref)}|${ref.key}|${ref.property ?? ''}|${ref.version ?? ''}`, opts, () => this.inner.getSecret(ref, opts));

  getSecretMap: SecretsClient['getSecretMap'] = (ref, opts) =>
    this.innerWhole
      ? this.sharedWhole(this.innerWhole, ref, opts, 'getSecretMap').then((whole) => whole.map(ref))
      : this.read(`m${metadataFlag(ref)}|${ref.key}|${ref.property ?? ''}|${ref.version ?? ''}`, opts, () => this.inner.getSecretMap(ref, opts));

  /** One read of the key and version (and metadataPolicy) shared by every property selected from it. */
  private sharedWhole(
    readWhole: NonNullable<SecretsClient['readWhole']>,
    ref: RemoteRef,
    opts: CallOptions,
    operation: ReadOperation,
  ): Promise<WholeSecret> {
    const whole: RemoteRef = { key: ref.key, version: ref.version, metadataPolicy: ref.metadataPolicy };
    return this.read(`w${metadataFlag(ref)}|${ref.key}|${ref.version ?? ''}`, opts, () => readWhole(whole, opts, operation));
  }

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

const metadataFlag = (ref: RemoteRef) => (ref.metadataPolicy === 'Fetch' ? 'M' : '');
