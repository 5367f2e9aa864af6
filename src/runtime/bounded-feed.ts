/**
 * Calls `issue(0)` … `issue(count - 1)` in order with at most `window` calls unsettled at a time;
 * a call that fails counts as settled (its caller reports its own failures). Returns at once.
 * Written by hand, not p-limit: that queues a closure and a promise per call up front, and a
 * refresh round of 10,000 reads would hold 10,000 of each; this walks an index.
 */
export function feedBounded(count: number, window: number, issue: (index: number) => Promise<unknown>): void {
  let next = 0;
  const pump = (): void => {
    if (next >= count) return;
    const index = next++;
    let call: Promise<unknown>;
    try {
      call = issue(index);
    } catch {
      call = Promise.resolve();
    }
    call.then(pump, pump);
  };
  for (let i = 0; i < Math.min(window, count); i++) pump();
}
