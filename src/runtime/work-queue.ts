import type { Clock } from './clock.js';
import { computeBackoff, type BackoffOptions, type Random } from './backoff.js';
import { IndexedHeap } from './indexed-heap.js';
import type { WorkQueueMetrics } from './metrics.js';

/** Higher is served first. `High` always goes before `Normal`. */
export const Priority = {
  /** Periodic refresh. */
  Normal: 0,
  /** Never synced, spec changed, or the store it uses changed. */
  High: 1,
} as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

export interface WorkItem {
  readonly key: string;
  readonly priority: Priority;
}

export interface WorkQueueOptions {
  /** Names the queue in metrics and logs. */
  readonly name: string;
  readonly clock: Clock;
  /** Per-key backoff for `addRateLimited`. Defaults to 5ms doubling up to 5 minutes, ±10%. */
  readonly rateLimit?: BackoffOptions;
  readonly random?: Random;
  /** When given, the queue reports its depth, delayed count and retries here. */
  readonly metrics?: WorkQueueMetrics;
}

export const DEFAULT_RATE_LIMIT: BackoffOptions = { baseMs: 5, maxMs: 5 * 60_000, jitter: 0.1 };

/** Node timers overflow above 2^31−1 ms; longer delays are reached in several wake-ups. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  resolve(item: WorkItem | undefined): void;
}
interface Timer {
  readonly due: number;
  readonly cancel: AbortController;
}

/**
 * The heaps order by their first number, then their second, smallest first. `ready` holds
 * (−priority, sequence): higher priority first, then first come first served. `delayed` holds
 * (due time, −priority): earliest due first, and of keys due at once the higher priority first.
 */
const priorityOf = (negated: number): Priority => -negated as Priority;
const maxPriority = (a: Priority, b: Priority | undefined): Priority => (b !== undefined && b > a ? b : a);

/**
 * A keyed, de-duplicating work queue in the manner of client-go's rate-limited delaying queue.
 *
 * - A key is handed to one worker at a time; a key added while being processed is queued again,
 *   once, when `done` is called.
 * - A queued key is never duplicated; re-adding it with a higher priority moves it up.
 * - `addAfter` keeps the earliest due time per key; an immediate `add` supersedes a pending delay.
 * - All delays share one timer (armed for the earliest due time); every operation is O(log n).
 */
export class WorkQueue {
  readonly name: string;
  private readonly ready = new IndexedHeap<string>();
  private readonly delayed = new IndexedHeap<string>();
  private readonly processing = new Set<string>();
  /** Keys added while being processed, with the priority to queue them at on `done`. */
  private readonly dirty = new Map<string, Priority>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: Waiter[] = [];
  private readonly unregister: () => void;
  private timer: Timer | undefined;
  private seq = 0;
  private stopped = false;

  constructor(private readonly opts: WorkQueueOptions) {
    this.name = opts.name;
    this.unregister = opts.metrics?.registerQueue(opts.name, this) ?? (() => undefined);
  }

  /** Queues `key` now. */
  add(key: string, priority: Priority = Priority.Normal): void {
    if (this.stopped) return;
    if (this.delayed.delete(key)) this.armTimer();
    this.enqueue(key, priority);
  }

  /** Queues `key` after `delayMs`, unless it is already queued now or due earlier. */
  addAfter(key: string, delayMs: number, priority: Priority = Priority.Normal): void {
    if (this.stopped) return;
    if (!(delayMs > 0)) return this.add(key, priority);
    if (this.ready.has(key) || this.dirty.has(key)) return;
    const due = this.opts.clock.now() + delayMs;
    const existingDue = this.delayed.first(key);
    const existing = this.delayed.second(key);
    this.delayed.set(
      key,
      existingDue === undefined ? due : Math.min(existingDue, due),
      -maxPriority(priority, existing === undefined ? undefined : priorityOf(existing)),
    );
    this.armTimer();
  }

  /** Queues `key` after its per-key exponential backoff and counts the failure. */
  addRateLimited(key: string, priority: Priority = Priority.Normal): void {
    if (this.stopped) return;
    const attempt = this.failures.get(key) ?? 0;
    this.failures.set(key, attempt + 1);
    this.opts.metrics?.recordRetry(this.name);
    const delay = computeBackoff(attempt, this.opts.rateLimit ?? DEFAULT_RATE_LIMIT, this.opts.random);
    this.addAfter(key, delay, priority);
  }

  /** Clears `key`'s failure count (call after a successful reconcile). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * Waits for the next key and marks it as being processed; the caller must call `done(key)`.
   * Resolves `undefined` when the queue shuts down or `signal` aborts.
   */
  get(signal?: AbortSignal): Promise<WorkItem | undefined> {
    if (this.stopped || signal?.aborted) return Promise.resolve(undefined);
    const item = this.take();
    if (item) return Promise.resolve(item);
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      };
      const waiter: Waiter = {
        resolve: (next) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(next);
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Marks `key` as processed; if it was added meanwhile, queues it again. */
  done(key: string): void {
    this.processing.delete(key);
    const again = this.dirty.get(key);
    if (again === undefined) return;
    this.dirty.delete(key);
    this.enqueue(key, again);
  }

  /** Keys ready for a worker (not counting those being processed or delayed). */
  len(): number {
    return this.ready.size;
  }

  /** Keys scheduled for later. */
  delayedLen(): number {
    return this.delayed.size;
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  isShutdown(): boolean {
    return this.stopped;
  }

  /** Stops handing out keys: waiting and later `get` calls resolve `undefined`, adds are ignored. */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.disarmTimer();
    this.ready.clear();
    this.delayed.clear();
    this.dirty.clear();
    for (const waiter of this.waiters.splice(0)) waiter.resolve(undefined);
    this.unregister();
  }

  private enqueue(key: string, priority: Priority): void {
    if (this.processing.has(key)) {
      this.dirty.set(key, maxPriority(priority, this.dirty.get(key)));
      return;
    }
    const queued = this.ready.first(key);
    if (queued !== undefined && priorityOf(queued) >= priority) return;
    this.ready.set(key, -priority, this.seq++);
    this.wakeWaiters();
  }

  private take(): WorkItem | undefined {
    const next = this.ready.pop();
    if (!next) return undefined;
    this.processing.add(next.key);
    return { key: next.key, priority: priorityOf(next.first) };
  }

  private wakeWaiters(): void {
    while (this.waiters.length > 0 && this.ready.size > 0) {
      const waiter = this.waiters.shift() as Waiter;
      waiter.resolve(this.take());
    }
  }

  /** Moves every delayed key that is due into the ready queue, then re-arms the timer. */
  private flushDue(): void {
    const now = this.opts.clock.now();
    for (let head = this.delayed.peek(); head && head.first <= now; head = this.delayed.peek()) {
      this.delayed.pop();
      this.enqueue(head.key, priorityOf(head.second));
    }
    this.armTimer();
  }

  /** Keeps exactly one timer, due no later than the earliest delayed key. */
  private armTimer(): void {
    const head = this.delayed.peek();
    if (!head) return this.disarmTimer();
    if (this.timer && this.timer.due <= head.first) return;
    this.disarmTimer();
    const now = this.opts.clock.now();
    const wait = Math.min(Math.max(0, head.first - now), MAX_TIMER_MS);
    const timer: Timer = { due: now + wait, cancel: new AbortController() };
    this.timer = timer;
    void this.opts.clock.sleep(wait, timer.cancel.signal).then(
      () => this.onTimer(timer),
      () => undefined, // cancelled: a newer timer replaced this one
    );
  }

  private onTimer(timer: Timer): void {
    if (this.timer !== timer) return;
    this.timer = undefined;
    this.flushDue();
  }

  private disarmTimer(): void {
    this.timer?.cancel.abort();
    this.timer = undefined;
  }
}
