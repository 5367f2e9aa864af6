import type { Logger } from '../observability/logger.js';
import { systemClock, type Clock } from './clock.js';
import type { RuntimeMetrics, ReconcileOutcome } from './metrics.js';
import { Priority, type WorkItem, type WorkQueue } from './work-queue.js';

/** What a reconcile asks for: come back after `requeueAfterMs` (at `priority`, Normal by default). */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
  readonly priority?: Priority;
}

export interface ReconcileContext {
  /** Aborted when the controller stops; pass it on to I/O so shutdown is prompt. */
  readonly signal: AbortSignal;
  /** The priority the key was queued at. */
  readonly priority: Priority;
}

export type Reconcile = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

export interface ControllerOptions {
  readonly name: string;
  readonly queue: WorkQueue;
  /** Concurrent workers; each key is still processed by one worker at a time. */
  readonly workers: number;
  readonly reconcile: Reconcile;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  /** Stops the workers; `runController` resolves once in-flight reconciles have finished. */
  readonly signal: AbortSignal;
  /** Measures reconcile durations; defaults to the system clock. */
  readonly clock?: Clock;
}

/**
 * Runs `workers` loops that take keys from the queue and reconcile them.
 * Success forgets the key's failures and honours `requeueAfterMs`; a thrown error re-adds the key
 * with per-key backoff. Resolves when `signal` aborts (or the queue shuts down) and every worker
 * has finished its current key. The queue itself is left to its owner to shut down.
 */
export async function runController(opts: ControllerOptions): Promise<void> {
  const count = Math.max(1, Math.floor(opts.workers));
  const log = opts.log.child({ controller: opts.name });
  log.info({ workers: count }, 'controller started');
  await Promise.all(Array.from({ length: count }, () => runWorker(opts, log)));
  log.info('controller stopped');
}

async function runWorker(opts: ControllerOptions, log: Logger): Promise<void> {
  for (;;) {
    const item = await opts.queue.get(opts.signal);
    if (!item) return;
    try {
      await processItem(opts, log, item);
    } finally {
      opts.queue.done(item.key);
    }
  }
}

async function processItem(opts: ControllerOptions, log: Logger, item: WorkItem): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  const outcome = await reconcileOnce(opts, log, item);
  opts.metrics.observeReconcile(opts.name, outcome, (clock.now() - started) / 1000);
}

async function reconcileOnce(opts: ControllerOptions, log: Logger, item: WorkItem): Promise<ReconcileOutcome> {
  const { queue } = opts;
  try {
    const result = await opts.reconcile(item.key, { signal: opts.signal, priority: item.priority });
    queue.forget(item.key);
    if (result.requeueAfterMs === undefined) return 'success';
    queue.addAfter(item.key, result.requeueAfterMs, result.priority ?? Priority.Normal);
    return 'requeue';
  } catch (err) {
    queue.addRateLimited(item.key, item.priority);
    logFailure(opts, log, item.key, err);
    return 'error';
  }
}

function logFailure(opts: ControllerOptions, log: Logger, key: string, err: unknown): void {
  if (opts.signal.aborted) {
    log.debug({ key, error: errorMessage(err) }, 'reconcile interrupted by shutdown');
    return;
  }
  log.error(
    { key, error: errorMessage(err), retries: opts.queue.numRequeues(key) },
    'reconcile failed; retrying with backoff',
  );
}

/** Only the message: an error's other fields (and its cause) may carry data we must not log. */
function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
