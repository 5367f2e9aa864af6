import type { EventInput, KubeObject } from './kube-port.js';

export const REPORTING_CONTROLLER = 'lockstep.dev/controller';

/** API limits of events.k8s.io/v1 (note: 1 KiB; reason, action, reportingInstance: 128). */
const MAX_NOTE = 1024;
const MAX_SHORT = 128;
/** Cluster-scoped objects (ClusterSecretStore) get their events in this namespace, like kubectl does. */
const CLUSTER_EVENT_NAMESPACE = 'default';

/** RFC 3339 with microseconds, the wire format of `metav1.MicroTime`. */
export function formatMicroTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** An `events.k8s.io/v1` Event about `input.regarding`, reported by the Lockstep controller. */
export function buildEvent(input: EventInput, reportingInstance: string, nowMs: number): KubeObject {
  const { regarding } = input;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {
      generateName: `${regarding.name.slice(0, 200)}-`,
      namespace: regarding.namespace ?? CLUSTER_EVENT_NAMESPACE,
    },
    eventTime: formatMicroTime(nowMs),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: reportingInstance.slice(0, MAX_SHORT),
    action: input.action.slice(0, MAX_SHORT),
    reason: input.reason.slice(0, MAX_SHORT),
    note: truncate(input.message, MAX_NOTE),
    type: input.type,
    regarding: dropUndefined({ ...regarding }),
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
