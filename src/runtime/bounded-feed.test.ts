import { feedBounded } from './bounded-feed.js';

/** A call the test settles by hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('feedBounded', () => {
  it('keeps at most `window` calls unsettled, in order, until every index was issued', async () => {
    const calls = new Map<number, ReturnType<typeof deferred>>();
    let unsettled = 0;
    let most = 0;
    feedBounded(10, 3, (i) => {
      const d = deferred();
      calls.set(i, d);
      most = Math.max(most, ++unsettled);
      return d.promise.finally(() => unsettled--);
    });
    expect([...calls.keys()]).toEqual([0, 1, 2]);
    calls.get(1)?.resolve();
    await flush();
    expect([...calls.keys()]).toEqual([0, 1, 2, 3]);
    calls.get(0)?.reject(new Error('provider down')); // a failure frees its slot too
    await flush();
    expect([...calls.keys()]).toEqual([0, 1, 2, 3, 4]);
    for (let i = 2; i < 10; i++) {
      calls.get(i)?.resolve();
      await flush();
    }
    expect(calls.size).toBe(10);
    expect(most).toBe(3);
  });

  it('issues everything at once when the window is larger, and nothing for no items', () => {
    const issued: number[] = [];
    feedBounded(4, 100, (i) => (issued.push(i), new Promise(() => undefined)));
    expect(issued).toEqual([0, 1, 2, 3]);
    feedBounded(0, 5, () => {
      throw new Error('never called');
    });
  });

  it('goes on after an issue that throws', async () => {
    const issued: number[] = [];
    feedBounded(3, 1, (i) => {
      issued.push(i);
      if (i === 0) throw new Error('bad ref');
      return Promise.resolve();
    });
    await flush();
    expect(issued).toEqual([0, 1, 2]);
  });
});
