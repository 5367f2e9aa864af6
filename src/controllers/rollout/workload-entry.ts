/**
 * What the workload caches keep of a Deployment, StatefulSet, DaemonSet or Argo Rollout: only what
 * planning and doing a restart read (informer transform). Name, uid (the Events we record about
 * it) and labels (for `rollout.targets` selectors); our `lockstep.dev/*` annotations on the object
 * and on its pod template; the Secrets the pod template reads, as one string (`secretReads`,
 * computed once here by `findSecretUsage`, instead of the containers, env and volumes it was read
 * from); and, only of a workload Lockstep restarted (it carries our restart marks), what tells a
 * finished rollout: `generation`, `replicas` and a few status fields. Argo's `spec.restartAt` when
 * set. Everything else (containers, images, probes, `kubectl.kubernetes.io/last-applied-configuration`,
 * the resourceVersion: no handler watches workloads for changes, ...) is dropped, so a cluster with
 * 10,000 Deployments we never restart costs ~250 bytes each.
 */
import { Annotations } from '../../api/constants.js';
import type { KubeObject, ObjectMeta } from '../../kube/kube-port.js';
import { ALL_KEYS, findSecretUsage, type ConsumedKeys } from './consumers.js';
import type { Workload } from './workloads.js';

const OUR_PREFIX = 'lockstep.dev/';
/** Status fields `isRolloutComplete` reads. */
const STATUS_FIELDS = [
  'observedGeneration', 'replicas', 'updatedReplicas', 'availableReplicas', 'readyReplicas', 'currentRevision', 'updateRevision',
  'updatedNumberScheduled', 'desiredNumberScheduled', 'numberAvailable', 'phase',
] as const;

export function buildWorkloadEntry(obj: KubeObject): KubeObject {
  const w = obj as Workload;
  const { name, namespace, uid, generation, labels, annotations, deletionTimestamp } = w.metadata;
  const ownAnnotations = ours(annotations);
  const templateAnnotations = ours(w.spec?.template?.metadata?.annotations);
  // Rollout progress is read only of a workload whose last restart was ours (isRolloutComplete,
  // behind lastRestartAt): the restart marks are on the pod template, or on the object (Argo).
  const restarted = hasRestartMarks(templateAnnotations) || hasRestartMarks(ownAnnotations);
  // The common entry (a workload we never touched) is two objects of a fixed shape, their fields
  // inside the object: built up field by field, each entry carried a property array besides.
  const metadata: ObjectMeta = { name, namespace, uid, labels };
  if (ownAnnotations) metadata.annotations = ownAnnotations;
  if (restarted && generation !== undefined) metadata.generation = generation;
  if (deletionTimestamp) metadata.deletionTimestamp = deletionTimestamp;
  const entry: Workload = { metadata, secretReads: encodeSecretReads(findSecretUsage(w.spec?.template?.spec)) };
  const spec = definedOnly({
    replicas: restarted ? w.spec?.replicas : undefined,
    restartAt: w.spec?.restartAt,
    template: templateAnnotations ? { metadata: { annotations: templateAnnotations } } : undefined,
  });
  if (Object.keys(spec).length > 0) entry.spec = spec;
  const status = w.status;
  if (restarted && status) entry.status = definedOnly(Object.fromEntries(STATUS_FIELDS.map((f) => [f, status[f]])));
  return entry;
}

/**
 * The Secrets a pod template reads as one string, a line each: `name` when it reads every key,
 * `name/key` for each key it reads (Secret names and keys cannot hold `/` or a newline). One string
 * instead of a Map of Sets: this is held for every workload in the cluster.
 */
export function encodeSecretReads(usage: ReadonlyMap<string, ConsumedKeys>): string | undefined {
  const lines: string[] = [];
  for (const [secret, keys] of usage) {
    if (keys === ALL_KEYS) lines.push(secret);
    else for (const key of keys) lines.push([secret, key].join('/'));
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** The inverse of `encodeSecretReads`: what `findSecretUsage` found in the pod template. */
export function decodeSecretReads(reads: string | undefined): Map<string, ConsumedKeys> {
  const usage = new Map<string, ConsumedKeys>();
  if (!reads) return usage;
  for (const line of reads.split('\n')) {
    const slash = line.indexOf('/');
    const secret = slash < 0 ? line : line.slice(0, slash);
    const current = usage.get(secret);
    if (slash < 0) usage.set(secret, ALL_KEYS);
    else if (current !== ALL_KEYS) usage.set(secret, (current ?? new Set<string>()).add(line.slice(slash + 1)));
  }
  return usage;
}

function hasRestartMarks(annotations: Record<string, string> | undefined): boolean {
  return annotations !== undefined && (Annotations.restartedAt in annotations || Annotations.restartedFor in annotations);
}

function ours(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!annotations) return undefined;
  const kept = Object.entries(annotations).filter(([k]) => k.startsWith(OUR_PREFIX));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
