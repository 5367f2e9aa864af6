import { enableMemorySaverWhenCaughtUp, MEMORY_SAVER_FLAG, memorySaverEnabled } from './memory-saver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One process-wide switch: the tests run in this order.
describe('enableMemorySaverWhenCaughtUp', () => {
  it('does nothing once its signal aborted, whatever the backlog', async () => {
    const flags: string[] = [];
    const ac = new AbortController();
    let backlog = 5;
    enableMemorySaverWhenCaughtUp({ backlog: () => backlog, intervalMs: 5, setFlags: (f) => flags.push(f) }, ac.signal);
    await sleep(30);
    ac.abort();
    backlog = 0;
    await sleep(30);
    expect(flags).toEqual([]);
    expect(memorySaverEnabled()).toBe(false);
  });

  it('turns the mode on once, the first time no key waits, and never again', async () => {
    const flags: string[] = [];
    const backlogs = [10_000, 4_000, 1, 0, 7_000, 0];
    let calls = 0;
    const ac = new AbortController();
    let on = 0;
    enableMemorySaverWhenCaughtUp({
      backlog: () => backlogs[Math.min(calls++, backlogs.length - 1)] ?? 0,
      intervalMs: 5,
      setFlags: (f) => flags.push(f),
      onEnabled: () => on++,
    }, ac.signal);
    await sleep(80);
    expect(flags).toEqual([MEMORY_SAVER_FLAG]);
    expect(calls).toBe(4); // 10,000, 4,000, 1, then 0: the sampling stopped there
    expect(on).toBe(1);
    expect(memorySaverEnabled()).toBe(true);
    enableMemorySaverWhenCaughtUp({ backlog: () => 0, intervalMs: 5, setFlags: (f) => flags.push(f) }, ac.signal);
    await sleep(30);
    expect(flags).toEqual([MEMORY_SAVER_FLAG]);
    ac.abort();
  });
});
