import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('resolves sleeps only when time is advanced past them, in due order', async () => {
    const clock = new FakeClock(0);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(99);
    expect(woke).toEqual([]);
    await clock.advance(500);
    expect(woke).toEqual(['a@100', 'b@300']);
    expect(clock.now()).toBe(599);
  });

  it('wakes sleeps started by woken code within the same advance', async () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        ticks.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(35);
    await done;
    expect(ticks).toEqual([10, 20, 30]);
  });

  it('rejects with the abort reason and forgets aborted sleeps', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const sleeping = clock.sleep(100, ac.signal);
    expect(clock.pendingSleeps()).toBe(1);
    ac.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pendingSleeps()).toBe(0);
    await expect(clock.sleep(1, ac.signal)).rejects.toThrow('stop');
  });
});
