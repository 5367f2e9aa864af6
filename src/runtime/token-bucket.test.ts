import { FakeClock } from './fake-clock.js';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('serves a burst at once, then qps per second, in order', async () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket({ qps: 2, burst: 3 }, clock);
    const done: number[] = [];
    for (let i = 0; i < 6; i++) void bucket.take().then(() => done.push(i));
    await clock.advance(0);
    expect(done).toEqual([0, 1, 2]);
    await clock.advance(500);
    expect(done).toEqual([0, 1, 2, 3]);
    await clock.advance(1000);
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('lets an aborted caller go without blocking the next one', async () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket({ qps: 1, burst: 1 }, clock);
    await bucket.take();
    const abort = new AbortController();
    const aborted = bucket.take(abort.signal);
    const next = bucket.take();
    abort.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    await clock.advance(1000);
    await expect(next).resolves.toBeUndefined();
  });
});
