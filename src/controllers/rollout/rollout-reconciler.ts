/**
 * Restarts one workload for the rotations it owes. The owed restarts live in the status of the
 * ExternalSecrets (`pendingRollout`), so they survive an operator restart. A restart patches the
 * pod template annotation `lockstep.dev/restarted-for` with a token naming the rotations it is for
 * (Argo Rollouts: `spec.restartAt`), so repeating it is harmless and GitOps tools see no drift.
 */
import { createHash } from 'node:crypto';
import { Annotations, EventReasons } from '../../api/constants.js';
import { parseDuration } from '../../api/common.js';
import type { WorkloadKind } from '../../api/external-secret.js';
import { LockstepResources } from '../../api/resources.js';
import { ConflictError } from '../../kube/kube-errors.js';
import { objectKey, type Informer, type KubeClient, type KubeObject } from '../../kube/kube-port.js';
import type { Logger } from '../../observability/logger.js';
import type { RolloutMetrics } from '../../observability/metrics.js';
import type { Clock } from '../../runtime/clock.js';
import { formatTime } from '../conditions.js';
import type { EventRecorder } from '../event-recorder.js';
import { owedSince, withoutWorkload, type PendingRollout } from './pending-rollout.js';
import { decideRestart } from './restart-policy.js';
import { isRolloutComplete, parseWorkloadId, WorkloadResources, workloadId, type Workload, type WorkloadInformers } from './workloads.js';

export interface RolloutOptions {
  windowMs: number;
  minIntervalMs: number;
  maxInFlight: number;
}

export interface RolloutReconcilerDeps {
  kube: KubeClient;
  externalSecrets: Informer<KubeObject>;
  workloads: WorkloadInformers;
  /** Whether the cache of `kind` holds `namespace`'s workloads yet (caches kept per namespace list when it comes into scope). */
  workloadsSynced?: (kind: WorkloadKind, namespace: string) => boolean;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  metrics: RolloutMetrics;
  options: RolloutOptions;
}

interface Intent {
  es: KubeObject;
  pending: PendingRollout;
  /** When this workload became owed this ExternalSecret's restart (ms): its window starts then. */
  since: number;
}

export function pendingRolloutOf(es: KubeObject): PendingRollout | undefined {
  return (es['status'] as { pendingRollout?: PendingRollout } | undefined)?.pendingRollout;
}

/** The rollout queue's key for a workload: `Kind/namespace/name`. */
export function rolloutKey(kind: WorkloadKind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export class RolloutReconciler {
  /** The last deferral reason per workload, so a Deferred event is recorded once, not on every retry. */
  private readonly deferred = new Map<string, string>();
  /**
   * Owed restarts already done (`namespace/es@hash|Kind/name` → when), so a cache that has not yet
   * seen our own status update cannot make us restart the same workload twice for one rotation.
   */
  private readonly done = new Map<string, number>();

  constructor(private readonly deps: RolloutReconcilerDeps) {}

  async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const [kind, namespace, name] = key.split('/') as [WorkloadKind, string, string];
    const id = workloadId(kind, name);
    const intents = this.intentsFor(namespace, id);
    if (intents.length === 0) return this.forgetDeferral(key);
    // Not yet listed is not gone: a restart owed is not dropped for it.
    if (this.deps.workloadsSynced?.(kind, namespace) === false) return { requeueAfterMs: 1_000 };
    const workload = this.deps.workloads[kind]?.get(name, namespace) as Workload | undefined;
    if (!workload) {
      await this.finish(intents, id, false); // gone: nothing left to restart
      return this.forgetDeferral(key);
    }
    const token = computeToken(intents);
    if (restartedFor(kind, workload) === token) {
      await this.finish(intents, id, true);
      return this.forgetDeferral(key);
    }
    const decision = decideRestart({
      now: this.deps.clock.now(),
      since: Math.min(...intents.map((i) => i.since)),
      windowMs: this.deps.options.windowMs,
      paused: workload.metadata.annotations?.[Annotations.restartPaused] === 'true',
      lastRestartAt: lastRestartAt(kind, workload),
      minIntervalMs: this.minInterval(workload),
      inFlight: this.countInFlight(key),
      maxInFlight: this.deps.options.maxInFlight,
    });
    if (decision.action === 'wait') return { requeueAfterMs: decision.afterMs };
    if (decision.action === 'defer') {
      await this.recordDeferral(key, kind, workload, decision.reason, decision.message);
      return { requeueAfterMs: decision.afterMs };
    }
    await this.restart(kind, workload, token, intents);
    await this.finish(intents, id, true);
    return this.forgetDeferral(key);
  }

  private intentsFor(namespace: string, id: string): Intent[] {
    const intents: Intent[] = [];
    for (const es of this.deps.externalSecrets.list(namespace)) {
      const pending = pendingRolloutOf(es);
      if (pending?.workloads.includes(id) && !this.done.has(doneKey(es, pending, id))) {
        intents.push({ es, pending, since: Date.parse(owedSince(pending, id)) });
      }
    }
    return intents;
  }

  private markDone(intents: Intent[], id: string): void {
    const now = this.deps.clock.now();
    for (const [key, at] of this.done) if (now - at > DONE_RETENTION_MS) this.done.delete(key);
    for (const i of intents) this.done.set(doneKey(i.es, i.pending, id), now);
  }

  private minInterval(w: Workload): number {
    const text = w.metadata.annotations?.[Annotations.restartMinInterval];
    if (text && /^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h))+)$/.test(text)) return parseDuration(text);
    return this.deps.options.minIntervalMs;
  }

  /** Rollouts Lockstep started that have not finished, across every workload kind but this one. */
  private countInFlight(self: string): number {
    let count = 0;
    for (const [kind, informer] of Object.entries(this.deps.workloads) as [WorkloadKind, Informer<KubeObject>][]) {
      for (const obj of informer.list()) {
        const w = obj as Workload;
        if (rolloutKey(kind, w.metadata.namespace ?? '', w.metadata.name ?? '') === self) continue;
        if (lastRestartAt(kind, w) !== undefined && !isRolloutComplete(kind, w)) count++;
      }
    }
    return count;
  }

  private async restart(kind: WorkloadKind, w: Workload, token: string, intents: Intent[]): Promise<void> {
    const now = formatTime(new Date(this.deps.clock.now()));
    const marks = { [Annotations.restartedFor]: token, [Annotations.restartedAt]: now };
    const patch = kind === 'Rollout'
      ? { metadata: { annotations: marks }, spec: { restartAt: now } }
      : { spec: { template: { metadata: { annotations: marks } } } };
    try {
      await this.deps.kube.patch(WorkloadResources[kind], w.metadata.name ?? '', w.metadata.namespace, patch);
    } catch (err) {
      this.deps.metrics.restarts.inc({ kind, outcome: 'failed' });
      await this.deps.events.record(asEventTarget(kind, w), 'Warning', EventReasons.restartFailed, `restart failed: ${(err as Error).message}`);
      throw err;
    }
    this.deps.metrics.restarts.inc({ kind, outcome: 'restarted' });
    for (const i of intents) this.deps.metrics.propagation.observe((this.deps.clock.now() - i.since) / 1000);
    const secrets = intents.map((i) => `'${i.es.metadata.name}'`).join(', ');
    await this.deps.events.record(asEventTarget(kind, w), 'Normal', EventReasons.restartTriggered, `restarted because ExternalSecret ${secrets} rotated`);
    this.deps.log.info({ workload: `${kind}/${w.metadata.namespace}/${w.metadata.name}`, rotations: intents.length }, 'workload restarted');
  }

  /**
   * Removes the workload from each ExternalSecret's owed restarts (fresh read, optimistic
   * concurrency). A restart for one rotation does not pay for a newer one that arrived meanwhile:
   * then the workload stays owed, and lastRollout still records the restart.
   */
  private async finish(intents: Intent[], id: string, restarted: boolean): Promise<void> {
    this.markDone(intents, id);
    for (const { es, pending } of intents) {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.removeFromPending(es, id, restarted, pending.hash);
          break;
        } catch (err) {
          if (!(err instanceof ConflictError) || attempt >= 4) throw err;
        }
      }
    }
  }

  private async removeFromPending(cached: KubeObject, id: string, restarted: boolean, restartedHash: string): Promise<void> {
    const res = LockstepResources.externalSecret;
    const es = await this.deps.kube.get<KubeObject>(res, cached.metadata.name ?? '', cached.metadata.namespace);
    const pending = es && pendingRolloutOf(es);
    if (!es || !pending?.workloads.includes(id)) return;
    const paidFor = !restarted || pending.hash === restartedHash;
    const last = (es['status'] as { lastRollout?: { time: string; workloads: string[] } }).lastRollout;
    const sameRotation = last && Date.parse(last.time) >= Date.parse(pending.since);
    const lastRollout = {
      time: formatTime(new Date(this.deps.clock.now())),
      workloads: [...new Set([...(sameRotation ? last.workloads : []), ...(restarted ? [id] : [])])].sort(),
    };
    const status = { pendingRollout: paidFor ? withoutWorkload(pending, id) : pending, lastRollout };
    await this.deps.kube.patch(res, es.metadata.name ?? '', es.metadata.namespace, {
      metadata: { resourceVersion: es.metadata.resourceVersion },
      status,
    }, { subresource: 'status' });
  }

  private async recordDeferral(key: string, kind: WorkloadKind, w: Workload, reason: string, message: string): Promise<void> {
    if (this.deferred.get(key) === reason) return;
    this.deferred.set(key, reason);
    this.deps.metrics.deferred.inc({ reason });
    await this.deps.events.record(asEventTarget(kind, w), 'Normal', EventReasons.restartDeferred, `restart deferred: ${message}`);
  }

  private forgetDeferral(key: string): { requeueAfterMs?: number } {
    this.deferred.delete(key);
    return {};
  }
}

const DONE_RETENTION_MS = 10 * 60_000;

function doneKey(es: KubeObject, pending: PendingRollout, id: string): string {
  return `${objectKey(es.metadata)}@${pending.hash}@${owedSince(pending, id)}|${id}`;
}

/** Names the rotations a restart is for; the same rotations always give the same token. */
function computeToken(intents: Intent[]): string {
  const parts = intents.map((i) => `${objectKey(i.es.metadata)}@${i.pending.hash}`).sort();
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 32);
}

function marksOf(kind: WorkloadKind, w: Workload): Record<string, string> | undefined {
  return kind === 'Rollout' ? w.metadata.annotations : w.spec?.template?.metadata?.annotations;
}

function restartedFor(kind: WorkloadKind, w: Workload): string | undefined {
  return marksOf(kind, w)?.[Annotations.restartedFor];
}

function lastRestartAt(kind: WorkloadKind, w: Workload): number | undefined {
  const at = marksOf(kind, w)?.[Annotations.restartedAt];
  const ms = at ? Date.parse(at) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

function asEventTarget(kind: WorkloadKind, w: Workload): KubeObject {
  const res = WorkloadResources[kind];
  return { ...w, apiVersion: `${res.group}/${res.version}`, kind };
}

export { parseWorkloadId };
