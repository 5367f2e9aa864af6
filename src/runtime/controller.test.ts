import { Registry } from 'prom-client';
import { runController, type Reconcile, type ReconcileResult } from './controller.js';
import { FakeClock, flushMicrotasks } from './fake-clock.js';
import { buildRuntimeMetrics } from './metrics.js';
import { buildMemoryLogger } from './testing/memory-logger.js';
import { Priority, WorkQueue } from './work-queue.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}
function defer<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function setup(reconcile: Reconcile, workers = 1) {
  const clock = new FakeClock(0);
  const registry = new Registry();
  const metrics = buildRuntimeMetrics(registry);
  const queue = new WorkQueue({ name: 'things', clock, metrics, rateLimit: { baseMs: 100, maxMs: 10_000, jitter: 0 } });
  const logger = buildMemoryLogger();
  const ac = new AbortController();
  const running = runController({ name: 'things', queue, workers, reconcile, log: logger.log, metrics, signal: ac.signal, clock });
  const stop = async () => {
    ac.abort();
    await running;
  };
  return { clock, registry, queue, logger, ac, running, stop };
}

describe('runController', () => {
  it('reconciles queued keys and counts successes', async () => {
    const seen: string[] = [];
    const { queue, registry, stop } = setup(async (key) => {
      seen.push(key);
      return {};
    });
    queue.add('ns/a');
    queue.add('ns/b');
    await flushMicrotasks();
    expect(seen).toEqual(['ns/a', 'ns/b']);
    await stop();
    const text = await registry.metrics();
    expect(text).toContain('lockstep_reconcile_total{controller="things",result="success"} 2');
    expect(text).toContain('lockstep_reconcile_duration_seconds_count{controller="things"} 2');
  });

  it('honours requeueAfterMs with the priority asked for', async () => {
    const calls: Array<{ key: string; at: number; priority: Priority }> = [];
    const { queue, clock, registry, stop } = setup(async (key, ctx) => {
      calls.push({ key, at: clock.now(), priority: ctx.priority });
      return { requeueAfterMs: 60_000 };
    });
    queue.add('ns/a', Priority.High);
    await clock.advance(59_999);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toEqual([
      { key: 'ns/a', at: 0, priority: Priority.High },
      { key: 'ns/a', at: 60_000, priority: Priority.Normal },
    ]);
    await stop();
    expect(await registry.metrics()).toContain('lockstep_reconcile_total{controller="things",result="requeue"} 2');
  });

  it('retries a failing key with per-key backoff and forgets failures on success', async () => {
    const attempts: number[] = [];
    const { queue, clock, stop } = setup(async () => {
      attempts.push(clock.now());
      if (attempts.length <= 3) throw new Error('provider unavailable');
      return {};
    });
    queue.add('ns/a');
    await clock.advance(10_000);
    expect(attempts).toEqual([0, 100, 300, 700]);
    expect(queue.numRequeues('ns/a')).toBe(0);
    await stop();
  });

  it('logs only the error message, never the error object or its cause', async () => {
    const secret = 'hunter2-value';
    const { queue, logger, registry, stop } = setup(async () => {
      throw Object.assign(new Error('fetch failed', { cause: new Error(secret) }), { response: { body: secret } });
    });
    queue.add('ns/a');
    await flushMicrotasks();
    await stop();
    const failure = logger.entries().find((e) => e.msg === 'reconcile failed; retrying with backoff');
    expect(failure).toMatchObject({ controller: 'things', key: 'ns/a', error: 'fetch failed', retries: 1 });
    expect(logger.text()).not.toContain(secret);
    expect(await registry.metrics()).toContain('lockstep_reconcile_total{controller="things",result="error"} 1');
  });

  it('runs up to `workers` reconciles at once but never the same key twice', async () => {
    const gates = new Map<string, Deferred<ReconcileResult>>();
    let active = 0;
    let peak = 0;
    let overlapped = false;
    const { queue, stop } = setup(async (key) => {
      if (gates.has(key)) overlapped = true;
      active++;
      peak = Math.max(peak, active);
      const gate = defer<ReconcileResult>();
      gates.set(key, gate);
      const result = await gate.promise;
      gates.delete(key);
      active--;
      return result;
    }, 3);
    for (const k of ['a', 'b', 'c', 'd', 'e']) queue.add(k);
    await flushMicrotasks();
    expect([...gates.keys()]).toEqual(['a', 'b', 'c']);
    queue.add('a');
    gates.get('b')?.resolve({});
    await flushMicrotasks();
    expect([...gates.keys()].sort()).toEqual(['a', 'c', 'd']);
    gates.get('a')?.resolve({});
    await flushMicrotasks();
    expect([...gates.keys()].sort()).toEqual(['c', 'd', 'e']);
    expect(queue.len()).toBe(1);
    for (const [, gate] of gates) gate.resolve({});
    await flushMicrotasks();
    expect([...gates.keys()]).toEqual(['a']);
    await flushMicrotasks();
    for (const [, gate] of gates) gate.resolve({});
    await flushMicrotasks();
    expect(peak).toBe(3);
    expect(overlapped).toBe(false);
    expect(queue.len()).toBe(0);
    await stop();
  });

  it('stops on abort only after in-flight reconciles finish, passing them the signal', async () => {
    const gate = defer<ReconcileResult>();
    let seenSignal: AbortSignal | undefined;
    const { queue, ac, running } = setup(async (_key, ctx) => {
      seenSignal = ctx.signal;
      return gate.promise;
    }, 2);
    queue.add('a');
    await flushMicrotasks();
    let stopped = false;
    void running.then(() => (stopped = true));
    ac.abort();
    await flushMicrotasks();
    expect(seenSignal?.aborted).toBe(true);
    expect(stopped).toBe(false);
    gate.resolve({});
    await flushMicrotasks();
    expect(stopped).toBe(true);
    expect(queue.isProcessing('a')).toBe(false);
  });

  it('records reconcile duration from the injected clock', async () => {
    const ref: { clock?: FakeClock } = {};
    const { queue, clock, registry, stop } = setup(async () => {
      await ref.clock?.sleep(2_000);
      return {};
    });
    ref.clock = clock;
    queue.add('a');
    await clock.advance(2_000);
    await stop();
    const text = await registry.metrics();
    expect(text).toContain('lockstep_reconcile_duration_seconds_sum{controller="things"} 2');
    expect(text).toContain('lockstep_reconcile_duration_seconds_bucket{le="2.5",controller="things"} 1');
  });
});
