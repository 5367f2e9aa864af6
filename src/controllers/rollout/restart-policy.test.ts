import { decideRestart, type RestartState } from './restart-policy.js';

const base: RestartState = { now: 10_000, since: 0, windowMs: 5_000, paused: false, minIntervalMs: 60_000, inFlight: 0, maxInFlight: 2 };

describe('restart policy', () => {
  it('waits for the coalescing window, then restarts', () => {
    expect(decideRestart({ ...base, now: 1_000 })).toEqual({ action: 'wait', afterMs: 4_000 });
    expect(decideRestart(base)).toEqual({ action: 'restart' });
  });

  it('defers while paused, within the minimum interval, and at the in-flight cap', () => {
    expect(decideRestart({ ...base, paused: true })).toMatchObject({ action: 'defer', reason: 'Paused' });
    expect(decideRestart({ ...base, lastRestartAt: 5_000 })).toMatchObject({ action: 'defer', reason: 'MinInterval', afterMs: 55_000 });
    expect(decideRestart({ ...base, lastRestartAt: -60_000 })).toEqual({ action: 'restart' });
    expect(decideRestart({ ...base, inFlight: 2 })).toMatchObject({ action: 'defer', reason: 'MaxInFlight' });
  });
});
