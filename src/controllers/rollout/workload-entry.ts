/**
 * What the workload caches keep of a Deployment, StatefulSet, DaemonSet or Argo Rollout: only what
 * planning and doing a restart read (informer transform). Labels (for `rollout.targets` selectors),
 * our `lockstep.dev/*` annotations on the object and on its pod template, the pod template's Secret
 * references (env `secretKeyRef`, `envFrom`, `secret` and projected volumes), `replicas`,
 * `restartAt`, and the status fields that tell a finished rollout. Everything else (containers,
 * images, probes, `kubectl.kubernetes.io/last-applied-configuration`, ...) is dropped, so a cluster
 * with 10,000 Deployments we never restart costs a few hundred bytes each.
 */
import type { KubeObject } from '../../kube/kube-port.js';
import type { PodSpec } from './consumers.js';
import type { Workload } from './workloads.js';

const OUR_PREFIX = 'lockstep.dev/';
/** Status fields `isRolloutComplete` reads. */
const STATUS_FIELDS = [
  'observedGeneration', 'replicas', 'updatedReplicas', 'availableReplicas', 'readyReplicas', 'currentRevision', 'updateRevision',
  'updatedNumberScheduled', 'desiredNumberScheduled', 'numberAvailable', 'phase',
] as const;

type Container = NonNullable<PodSpec['containers']>[number];
type Volume = NonNullable<PodSpec['volumes']>[number];

export function buildWorkloadEntry(obj: KubeObject): KubeObject {
  const w = obj as Workload;
  const { name, namespace, uid, resourceVersion, generation, labels, annotations, deletionTimestamp } = w.metadata;
  const entry: Workload = {
    metadata: stripUndefined({ name, namespace, uid, resourceVersion, generation, labels, annotations: ours(annotations), deletionTimestamp }),
  };
  const spec = w.spec;
  if (spec) {
    const template = spec.template;
    const podSpec = template?.spec ? trimPodSpec(template.spec) : undefined;
    const templateAnnotations = ours(template?.metadata?.annotations);
    entry.spec = stripUndefined({
      replicas: spec.replicas,
      restartAt: spec.restartAt,
      template: template ? stripUndefined({ metadata: templateAnnotations ? { annotations: templateAnnotations } : undefined, spec: podSpec }) : undefined,
    });
  }
  const status = w.status as Record<string, unknown> | undefined;
  if (status) entry.status = stripUndefined(Object.fromEntries(STATUS_FIELDS.map((f) => [f, status[f]])));
  return entry;
}

function ours(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!annotations) return undefined;
  const kept = Object.entries(annotations).filter(([k]) => k.startsWith(OUR_PREFIX));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

function trimPodSpec(spec: PodSpec): PodSpec | undefined {
  const containers = trimContainers(spec.containers);
  const initContainers = trimContainers(spec.initContainers);
  const volumes = (spec.volumes ?? []).map(trimVolume).filter((v): v is Volume => v !== undefined);
  const out = stripUndefined({ containers, initContainers, volumes: volumes.length > 0 ? volumes : undefined });
  return Object.keys(out).length > 0 ? out : undefined;
}

function trimContainers(containers: Container[] | undefined): Container[] | undefined {
  const kept = (containers ?? []).map((c) => {
    const env = (c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => ({ valueFrom: { secretKeyRef: e.valueFrom?.secretKeyRef } }));
    const envFrom = (c.envFrom ?? []).filter((e) => e.secretRef).map((e) => ({ secretRef: e.secretRef }));
    return stripUndefined({ env: env.length > 0 ? env : undefined, envFrom: envFrom.length > 0 ? envFrom : undefined }) as Container;
  }).filter((c) => Object.keys(c).length > 0);
  return kept.length > 0 ? kept : undefined;
}

function trimVolume(v: Volume): Volume | undefined {
  if (v.secret) return { secret: { secretName: v.secret.secretName, ...(v.secret.items ? { items: v.secret.items.map((i) => ({ key: i.key })) } : {}) } };
  const sources = (v.projected?.sources ?? []).filter((s) => s.secret).map((s) => ({
    secret: { name: s.secret?.name, ...(s.secret?.items ? { items: s.secret.items.map((i) => ({ key: i.key })) } : {}) },
  }));
  return sources.length > 0 ? { projected: { sources } } : undefined;
}

function stripUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
