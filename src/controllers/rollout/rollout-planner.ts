/**
 * Which workloads a rotation of one Secret must restart: the ExternalSecret's `rollout.targets`
 * plus the workloads that opted in with `lockstep.dev/restart-on`, keeping only those that read a
 * key that changed.
 */
import { Annotations } from '../../api/constants.js';
import type { RolloutTarget, WorkloadKind } from '../../api/external-secret.js';
import { matchesLabelSelector } from '../secret-store/store-access-policy.js';
import { parseRestartOn, shouldRestartFor } from './consumers.js';
import { decodeSecretReads } from './workload-entry.js';
import { workloadId, type Workload, type WorkloadInformers } from './workloads.js';

export interface RotationInput {
  namespace: string;
  secretName: string;
  changedKeys: string[];
  targets: RolloutTarget[];
  /** Files: `secretName` names an ExternalSecret delivered as files; its consumers are the init-mode pods that inject it. */
  delivery?: 'Files';
}

/** Plans over the workload caches, whose entries `buildWorkloadEntry` made. */
export function planRollout(informers: WorkloadInformers, input: RotationInput): string[] {
  const chosen = new Set<string>();
  for (const [kind, informer] of Object.entries(informers) as [WorkloadKind, NonNullable<WorkloadInformers[WorkloadKind]>][]) {
    const targets = input.targets.filter((t) => t.kind === kind);
    for (const obj of informer.list(input.namespace)) {
      const w = obj as Workload;
      const name = w.metadata.name ?? '';
      const targeted = targets.some((t) => t.name === name || (t.selector && matchesLabelSelector(t.selector, w.metadata.labels)));
      if (input.delivery === 'Files') {
        if (targeted || injectsAtStart(w, input.secretName)) chosen.add(workloadId(kind, name));
        continue;
      }
      const usage = decodeSecretReads(w.secretReads);
      const optedIn = parseRestartOn(w.metadata.annotations?.[Annotations.restartOn], usage).has(input.secretName);
      if ((optedIn || targeted) && shouldRestartFor(usage.get(input.secretName), input.changedKeys)) {
        chosen.add(workloadId(kind, name));
      }
    }
  }
  return [...chosen].sort();
}

/** The pod template injects the ExternalSecret's files in init mode (written once, at start). */
function injectsAtStart(w: Workload, externalSecret: string): boolean {
  const annotations = w.spec?.template?.metadata?.annotations ?? {};
  const names = (annotations[Annotations.inject] ?? '').split(',').map((n) => n.trim());
  return names.includes(externalSecret) && (annotations[Annotations.injectMode] ?? 'init') === 'init';
}
