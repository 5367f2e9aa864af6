/**
 * Runs `run` with a signal that aborts after `ms` (reason: a TimeoutError, as AbortSignal.timeout
 * gives), and disarms the timer as soon as `run` settles. AbortSignal.timeout keeps its timer, and
 * its signal, until the deadline even when the call ended in milliseconds: at 10,000 provider
 * reads an interval, those were megabytes of heap (kube-transport.ts runs every API request under it too).
 */
export async function withDeadline<T>(ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  timer.unref();
  try {
    return await run(deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}
