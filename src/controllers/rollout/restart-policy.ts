/** Whether a workload may restart now: the safety valves, as a pure decision. */
export interface RestartState {
  now: number;
  /** When the oldest change this restart is for was seen. */
  since: number;
  /** Changes seen within this window of the first are restarted together. */
  windowMs: number;
  paused: boolean;
  lastRestartAt?: number;
  minIntervalMs: number;
  /** Rollouts Lockstep started that have not finished, other than this workload's. */
  inFlight: number;
  maxInFlight: number;
}

export type RestartDecision =
  | { action: 'restart' }
  | { action: 'wait'; afterMs: number }
  | { action: 'defer'; reason: 'Paused' | 'MinInterval' | 'MaxInFlight'; afterMs: number; message: string };

const PAUSED_RECHECK_MS = 30_000;
const IN_FLIGHT_RECHECK_MS = 2_000;

export function decideRestart(s: RestartState): RestartDecision {
  const windowEnd = s.since + s.windowMs;
  if (s.now < windowEnd) return { action: 'wait', afterMs: windowEnd - s.now };
  if (s.paused) {
    return { action: 'defer', reason: 'Paused', afterMs: PAUSED_RECHECK_MS, message: 'restarts are paused by the lockstep.dev/restart-paused annotation' };
  }
  if (s.lastRestartAt !== undefined && s.now < s.lastRestartAt + s.minIntervalMs) {
    const afterMs = s.lastRestartAt + s.minIntervalMs - s.now;
    return { action: 'defer', reason: 'MinInterval', afterMs, message: `restarted less than the minimum interval ago; restarting in ${Math.ceil(afterMs / 1000)}s` };
  }
  if (s.inFlight >= s.maxInFlight) {
    return { action: 'defer', reason: 'MaxInFlight', afterMs: IN_FLIGHT_RECHECK_MS, message: `${s.inFlight} rollouts are in flight (the cluster-wide limit is ${s.maxInFlight})` };
  }
  return { action: 'restart' };
}
