/**
 * V8's memory saver mode, switched on once the operator has caught up with its backlog.
 *
 * Node 24's V8 keeps the heap pages a collection freed in a pool that only a memory-reducing
 * collection returns to the system, and its memory reducer never starts one while the process stays
 * busy: a steadily refreshing operator's RSS ratchets up to each new peak of its heap (at 5,000
 * ExternalSecrets, +11 % over 10 refresh rounds). In memory saver mode every major collection
 * reduces memory, which keeps RSS flat, but it collects about three times as often: the first sync
 * of 10,000 ExternalSecrets took about 25 % more operator CPU. So the first sync after a start (or
 * after taking the lease) runs at full speed and the mode goes on the first time no key waits for a
 * worker; it stays on (V8's flag is process-wide). `--memory-saver-mode` in NODE_OPTIONS turns it on
 * from the start.
 */
import { setFlagsFromString } from 'node:v8';

export const MEMORY_SAVER_FLAG = '--memory-saver-mode';

export interface MemorySaverOptions {
  /** Keys waiting for a worker (not those being worked on or delayed). */
  backlog: () => number;
  /** How often the backlog is looked at (default 1 s). */
  intervalMs?: number;
  /** Sets V8 flags at run time (default node:v8's setFlagsFromString). */
  setFlags?: (flags: string) => void;
  onEnabled?: () => void;
}

let enabled = false;

/** Turns V8's memory saver mode on the first time the backlog is empty while `signal` is live. */
export function enableMemorySaverWhenCaughtUp(opts: MemorySaverOptions, signal: AbortSignal): void {
  if (enabled || signal.aborted) return;
  const timer = setInterval(() => {
    if (enabled) return stop();
    if (opts.backlog() > 0) return;
    stop();
    (opts.setFlags ?? setFlagsFromString)(MEMORY_SAVER_FLAG);
    enabled = true;
    opts.onEnabled?.();
  }, opts.intervalMs ?? 1000);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    signal.removeEventListener('abort', stop);
  };
  signal.addEventListener('abort', stop, { once: true });
}

/** Whether this process turned the mode on (tests). */
export function memorySaverEnabled(): boolean {
  return enabled;
}
