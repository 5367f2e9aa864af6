/** The Ready condition, kstatus-compatible. Messages name what failed, never a value. */
import type { Condition } from '../api/common.js';
import { ConditionTypes } from '../api/constants.js';

export interface ReadyState {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** The new condition list: lastTransitionTime moves only when the status changes. */
export function buildConditions(
  previous: Condition[] | undefined,
  ready: ReadyState,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const old = findReady(previous);
  const changed = old?.status !== ready.status;
  const condition: Condition = {
    type: ConditionTypes.ready,
    status: ready.status,
    reason: ready.reason,
    message: ready.message,
    lastTransitionTime: !changed && old ? old.lastTransitionTime : formatTime(now),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return [...(previous ?? []).filter((c) => c.type !== ConditionTypes.ready), condition];
}

export function findReady(conditions: Condition[] | undefined): Condition | undefined {
  return conditions?.find((c) => c.type === ConditionTypes.ready);
}

/** True when the Ready condition's visible state (status, reason) differs: the moments worth an event. */
export function isTransition(previous: Condition[] | undefined, ready: ReadyState): boolean {
  const old = findReady(previous);
  return old?.status !== ready.status || old?.reason !== ready.reason;
}

/** RFC 3339 without fractions, as Kubernetes writes times. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
