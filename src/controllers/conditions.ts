/**
 * The Ready condition, and kstatus's Reconciling and Stalled beside it, so that kstatus (Flux, kpt)
 * and Argo CD tell a failed object from a healthy one. Messages name what failed, never a value.
 */
import type { Condition } from '../api/common.js';
import { ConditionTypes, Reasons } from '../api/constants.js';

export interface ReadyState {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * Failures that will not heal without a change to the spec, the store or the provider's data:
 * kstatus reports them as Failed (Stalled=True). Every other Ready=False is still being worked on
 * (Reconciling=True, kstatus InProgress): it may heal by itself.
 */
const STALLED_REASONS: ReadonlySet<string> = new Set([
  Reasons.invalidSpec, Reasons.storeNotAllowed, Reasons.invalidConfig, Reasons.targetConflict,
  Reasons.secretImmutable, Reasons.secretSyncError, Reasons.secretDeleted,
  Reasons.endpointNotAllowed, Reasons.identityNotAllowed, Reasons.tokenAudienceNotAllowed,
]);

/** The new condition list: lastTransitionTime moves only when a condition's status changes. */
export function buildConditions(
  previous: Condition[] | undefined,
  ready: ReadyState,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const make = (type: string, state: ReadyState): Condition => {
    const old = previous?.find((c) => c.type === type);
    return {
      type,
      status: state.status,
      reason: state.reason,
      message: state.message,
      lastTransitionTime: old?.status === state.status ? old.lastTransitionTime : formatTime(now),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  };
  const failing = ready.status === 'False';
  const stalled = failing && STALLED_REASONS.has(ready.reason);
  const ours = new Set<string>(Object.values(ConditionTypes));
  return [
    ...(previous ?? []).filter((c) => !ours.has(c.type)),
    make(ConditionTypes.ready, ready),
    ...(failing && !stalled ? [make(ConditionTypes.reconciling, { ...ready, status: 'True' })] : []),
    ...(stalled ? [make(ConditionTypes.stalled, { ...ready, status: 'True' })] : []),
  ];
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
