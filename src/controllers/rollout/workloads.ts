/** The workload kinds Lockstep can restart, and how to read and restart each. */
import type { WorkloadKind } from '../../api/external-secret.js';
import type { Informer, KubeObject, Resource } from '../../kube/kube-port.js';
import type { PodSpec } from './consumers.js';

export const WorkloadResources: Record<WorkloadKind, Resource> = {
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  Rollout: { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', kind: 'Rollout', namespaced: true },
};

export type WorkloadInformers = Partial<Record<WorkloadKind, Informer<KubeObject>>>;

export interface Workload extends KubeObject {
  spec?: {
    replicas?: number;
    template?: { metadata?: { annotations?: Record<string, string> }; spec?: PodSpec };
    restartAt?: string;
  };
  status?: Record<string, unknown>;
  /** In the cache only: the Secrets the pod template reads (`encodeSecretReads`), which replace the pod spec. */
  secretReads?: string;
}

/** "Kind/name": how restarts name a workload in status. */
export function workloadId(kind: WorkloadKind, name: string): string {
  return `${kind}/${name}`;
}

export function parseWorkloadId(id: string): { kind: WorkloadKind; name: string } {
  const i = id.indexOf('/');
  return { kind: id.slice(0, i) as WorkloadKind, name: id.slice(i + 1) };
}

/**
 * Whether the workload's last rollout has finished, judged from its status the way
 * `kubectl rollout status` does. A rollout still running counts against the cluster-wide cap.
 */
export function isRolloutComplete(kind: WorkloadKind, w: Workload): boolean {
  const s = (w.status ?? {}) as Record<string, number | string | undefined>;
  const observed = Number(s['observedGeneration'] ?? 0) >= Number(w.metadata.generation ?? 0);
  if (!observed) return false;
  switch (kind) {
    case 'Deployment': {
      const replicas = w.spec?.replicas ?? 1;
      return num(s['updatedReplicas']) >= replicas && num(s['availableReplicas']) >= replicas && num(s['replicas']) <= replicas;
    }
    case 'StatefulSet':
      return s['currentRevision'] !== undefined && s['currentRevision'] === s['updateRevision'] && num(s['readyReplicas']) >= (w.spec?.replicas ?? 1);
    case 'DaemonSet':
      return num(s['updatedNumberScheduled']) >= num(s['desiredNumberScheduled']) && num(s['numberAvailable']) >= num(s['desiredNumberScheduled']);
    case 'Rollout':
      return s['phase'] === undefined || s['phase'] === 'Healthy';
  }
}

function num(v: number | string | undefined): number {
  return Number(v ?? 0);
}
