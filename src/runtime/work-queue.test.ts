import { Registry } from 'prom-client';
import { FakeClock } from './fake-clock.js';
import { buildRuntimeMetrics } from './metrics.js';
import { Priority, WorkQueue, type WorkItem } from './work-queue.js';

function setup(extra: Partial<ConstructorParameters<typeof WorkQueue>[0]> = {}) {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({ name: 'test', clock, rateLimit: { baseMs: 5, maxMs: 1000, jitter: 0 }, ...extra });
  return { clock, queue };
}

/** Takes everything ready right now, marking each key done. */
async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const item = (await queue.get()) as WorkItem;
    keys.push(item.key);
    queue.done(item.key);
  }
  return keys;
}

describe('WorkQueue de-duplication and priorities', () => {
  it('keeps one entry per key', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    expect(queue.len()).toBe(2);
    expect(await drain(queue)).toEqual(['ns/a', 'ns/b']);
  });

  it('serves High before Normal, FIFO within a priority', async () => {
    const { queue } = setup();
    queue.add('n1', Priority.Normal);
    queue.add('h1', Priority.High);
    queue.add('n2', Priority.Normal);
    queue.add('h2', Priority.High);
    expect(await drain(queue)).toEqual(['h1', 'h2', 'n1', 'n2']);
  });

  it('moves a queued key up when re-added with a higher priority, never down', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.add('b');
    queue.add('c', Priority.High);
    queue.add('b', Priority.High);
    queue.add('c', Priority.Normal);
    expect(queue.len()).toBe(3);
    const first = await queue.get();
    expect(first).toEqual({ key: 'c', priority: Priority.High });
    queue.done('c');
    expect(await drain(queue)).toEqual(['b', 'a']);
  });
});

describe('WorkQueue processing', () => {
  it('never hands a key to two workers at once and re-queues it once after done', async () => {
    const { queue } = setup();
    queue.add('a');
    const first = await queue.get();
    expect(first?.key).toBe('a');
    queue.add('a');
    queue.add('a', Priority.High);
    queue.add('a');
    expect(queue.len()).toBe(0);
    let second: WorkItem | undefined;
    void queue.get().then((item) => (second = item));
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done('a');
    await Promise.resolve();
    expect(second).toEqual({ key: 'a', priority: Priority.High });
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('wakes a waiting get when a key arrives and returns undefined when its signal aborts', async () => {
    const { queue } = setup();
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toEqual({ key: 'x', priority: Priority.Normal });
    const ac = new AbortController();
    const aborted = queue.get(ac.signal);
    ac.abort();
    expect(await aborted).toBeUndefined();
    queue.add('y');
    expect((await queue.get())?.key).toBe('y');
  });

  it('on shutdown releases waiters, ignores adds and hands out nothing more', async () => {
    const { clock, queue } = setup();
    const waiting = queue.get();
    queue.addAfter('later', 1000);
    queue.shutdown();
    expect(await waiting).toBeUndefined();
    queue.add('a');
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(clock.pendingSleeps()).toBe(0);
  });
});

describe('WorkQueue delays', () => {
  it('makes a delayed key ready only when due', async () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 1000, Priority.High);
    expect(queue.len()).toBe(0);
    expect(queue.delayedLen()).toBe(1);
    await clock.advance(999);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.delayedLen()).toBe(0);
    expect(await queue.get()).toEqual({ key: 'a', priority: Priority.High });
  });

  it('keeps the earliest due time for a key', async () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 1000);
    queue.addAfter('a', 5000);
    queue.addAfter('b', 5000);
    queue.addAfter('b', 2000);
    expect(queue.delayedLen()).toBe(2);
    await clock.advance(1000);
    expect(await drain(queue)).toEqual(['a']);
    await clock.advance(1000);
    expect(await drain(queue)).toEqual(['b']);
    await clock.advance(10_000);
    expect(queue.len()).toBe(0);
  });

  it('keeps the highest priority of a delayed key, and serves keys due together High first', async () => {
    const { clock, queue } = setup();
    queue.addAfter('n1', 1000, Priority.Normal);
    queue.addAfter('h1', 1000, Priority.Normal);
    queue.addAfter('h1', 3000, Priority.High); // later, but its priority is kept
    queue.addAfter('n2', 1000, Priority.Normal);
    queue.addAfter('h2', 1000, Priority.High);
    await clock.advance(1000);
    const served: WorkItem[] = [];
    for (let item = await queue.get(); item; item = queue.len() > 0 ? await queue.get() : undefined) served.push(item);
    // no set order among keys due at once with one priority
    expect(served.slice(0, 2).map((i) => `${i.key}:${i.priority}`).sort()).toEqual(['h1:1', 'h2:1']);
    expect(served.slice(2).map((i) => `${i.key}:${i.priority}`).sort()).toEqual(['n1:0', 'n2:0']);
  });

  it('lets an immediate add supersede a pending delayed one', async () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 1000);
    queue.add('a');
    expect(queue.delayedLen()).toBe(0);
    expect(await drain(queue)).toEqual(['a']);
    await clock.advance(5000);
    expect(queue.len()).toBe(0);
  });

  it('ignores a delayed add for a key already waiting to be processed now', async () => {
    const { clock, queue } = setup();
    queue.add('a');
    queue.addAfter('a', 1000);
    expect(queue.delayedLen()).toBe(0);
    await clock.advance(1000);
    expect(await drain(queue)).toEqual(['a']);
  });

  it('re-queues a key that comes due while processing after done', async () => {
    const { clock, queue } = setup();
    queue.add('a');
    await queue.get();
    queue.addAfter('a', 100);
    await clock.advance(100);
    expect(queue.len()).toBe(0);
    queue.done('a');
    expect(await drain(queue)).toEqual(['a']);
  });

  it('uses one timer for the whole queue, armed for the earliest due time', async () => {
    const { clock, queue } = setup();
    for (let i = 0; i < 1000; i++) queue.addAfter(`k${i}`, 10_000 - i * 5);
    expect(clock.pendingSleeps()).toBe(1);
    await clock.advance(5005);
    expect(queue.len()).toBe(1);
    expect(clock.pendingSleeps()).toBe(1);
    await clock.advance(5000);
    expect(queue.len()).toBe(1000);
    expect(clock.pendingSleeps()).toBe(0);
    const order = await drain(queue);
    expect(order[0]).toBe('k999');
    expect(order[999]).toBe('k0');
  });

  it('re-arms for the next key when the earliest one is superseded', async () => {
    const { clock, queue } = setup();
    queue.addAfter('soon', 100);
    queue.addAfter('later', 500);
    queue.add('soon');
    await drain(queue);
    await clock.advance(100);
    expect(queue.len()).toBe(0);
    expect(clock.pendingSleeps()).toBe(1);
    await clock.advance(400);
    expect(await drain(queue)).toEqual(['later']);
  });

  it('reaches delays longer than a Node timer can hold', async () => {
    const { clock, queue } = setup();
    const month = 30 * 24 * 3600 * 1000;
    queue.addAfter('a', month);
    await clock.advance(month - 1);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
  });
});

describe('WorkQueue rate limiting', () => {
  it('backs off exponentially per key and resets on forget', async () => {
    const { clock, queue } = setup();
    const readyAfter = async (key: string) => {
      queue.addRateLimited(key);
      let waited = 0;
      while (queue.len() === 0) {
        await clock.advance(1);
        waited++;
      }
      await drain(queue);
      return waited;
    };
    expect(await readyAfter('a')).toBe(5);
    expect(await readyAfter('a')).toBe(10);
    expect(await readyAfter('a')).toBe(20);
    expect(queue.numRequeues('a')).toBe(3);
    expect(await readyAfter('b')).toBe(5);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    expect(await readyAfter('a')).toBe(5);
  });
});

describe('WorkQueue metrics', () => {
  it('reports depth, delayed count and retries under its name', async () => {
    const registry = new Registry();
    const { queue } = setup({ metrics: buildRuntimeMetrics(registry) });
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 1000);
    queue.addRateLimited('d');
    const text = await registry.metrics();
    expect(text).toContain('lockstep_workqueue_depth{name="test"} 2');
    expect(text).toContain('lockstep_workqueue_delayed{name="test"} 2');
    expect(text).toContain('lockstep_workqueue_retries_total{name="test"} 1');
    queue.shutdown();
    expect(await registry.metrics()).not.toContain('lockstep_workqueue_depth{name="test"}');
  });
});

describe('WorkQueue at scale', () => {
  it('handles 100k keys with mixed priorities and delays, High always first', async () => {
    const { clock, queue } = setup();
    for (let i = 0; i < 100_000; i++) queue.add(`ns/k${i}`, i % 3 === 0 ? Priority.High : Priority.Normal);
    for (let i = 0; i < 100_000; i++) queue.addAfter(`ns/d${i}`, 600 * (1 + ((i * 7919) % 100)));
    for (let i = 0; i < 100_000; i += 2) queue.add(`ns/k${i}`, Priority.High);
    let served = 0;
    let highAfterNormal = false;
    let sawNormal = false;
    while (queue.len() > 0) {
      const item = (await queue.get()) as WorkItem;
      if (item.priority === Priority.Normal) sawNormal = true;
      else if (sawNormal) highAfterNormal = true;
      queue.done(item.key);
      served++;
    }
    expect(highAfterNormal).toBe(false);
    await clock.advance(60_000);
    expect(queue.len()).toBe(100_000);
    expect(served).toBe(100_000);
    expect(clock.pendingSleeps()).toBe(0);
  });
});
