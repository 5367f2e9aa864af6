import type { Logger } from '../observability/logger.js';
import { CoreResources, type KubeClient, type KubeObject } from '../kube/kube-port.js';
import { ConflictError } from '../kube/kube-errors.js';
import type { Clock } from './clock.js';
import { jitter, type Random } from './backoff.js';

export interface LeaderElectorOptions {
  readonly kube: KubeClient;
  readonly namespace: string;
  /** Name of the Lease object. */
  readonly name: string;
  /** Unique per replica (typically the pod name). */
  readonly identity: string;
  /** How long a standby waits, after it last saw the lease change, before taking it. Default 15s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps retrying a failed renewal before it steps down. Default 10s. */
  readonly renewDeadlineMs?: number;
  /** Pause between acquire or renew attempts. Default 2s. */
  readonly retryPeriodMs?: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly random?: Random;
}

export interface LeaderCallbacks {
  /**
   * Called once the lease is acquired. `leaderSignal` aborts when leadership ends; if this returns
   * a promise, the elector waits for it before releasing the lease or calling `onStoppedLeading`.
   */
  onStartedLeading(leaderSignal: AbortSignal): void | Promise<void>;
  /** Called after leadership ended (lost, or released on shutdown) and the leader work finished. */
  onStoppedLeading(): void;
}

const LEASE = CoreResources.lease;
const ACQUIRE_JITTER = 0.2;

/** The fields of `coordination.k8s.io/v1` LeaseSpec that election uses; others are kept as they are. */
interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
  [field: string]: unknown;
}

/**
 * The type of each field election reads. Checked by hand, not with a zod schema: election runs
 * from the operator's start, and loading zod costs ~9 MB of RSS that an operator with no objects
 * otherwise never spends (see api/schema-loader.ts). Five fields, each null, absent or of its type.
 */
const LEASE_SPEC_FIELDS = {
  holderIdentity: 'string', leaseDurationSeconds: 'integer', acquireTime: 'string', renewTime: 'string', leaseTransitions: 'integer',
} as const;

/** The fields of a Lease's spec that election cannot read (['spec'] if it is no object); [] if it can. */
export function findLeaseSpecIssues(spec: unknown): string[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return ['spec'];
  const wrongType = ([field, type]: [string, 'string' | 'integer']) => {
    const value = (spec as Record<string, unknown>)[field];
    if (value === undefined || value === null) return false;
    return type === 'string' ? typeof value !== 'string' : !Number.isSafeInteger(value);
  };
  return Object.entries(LEASE_SPEC_FIELDS).filter(wrongType).map(([field]) => field);
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** 'held': someone else holds a lease that has not expired. */
type Attempt = 'acquired' | 'held' | 'failed';
type Ending = 'lost' | 'shutdown';

interface Observation {
  readonly resourceVersion: string;
  readonly holder: string | undefined;
  /** Our clock's time when we first saw this version: expiry is judged from here, not from renewTime. */
  readonly at: number;
}

const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * Leader election over a Lease, following client-go: acquire when the lease is free or has not
 * changed for its duration (by our own clock), renew every retry period, step down when renewals
 * fail for the renew deadline, and release the lease on clean shutdown.
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private observed: Observation | undefined;
  private leading = false;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      throw new Error('leader election needs leaseDurationMs > renewDeadlineMs > retryPeriodMs > 0');
    }
    this.log = opts.log.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder seen at the last read or write of the lease (may be this replica). */
  observedLeader(): string | undefined {
    return this.observed?.holder || undefined;
  }

  /**
   * Campaigns until the lease is acquired, leads until it is lost or `signal` aborts, then returns.
   * Resolves without leading if `signal` aborts first. A process normally exits after `run` returns.
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    if (!(await this.acquire(signal))) return;
    this.leading = true;
    this.log.info('acquired leadership');
    const scope = new AbortController();
    const work = this.lead(callbacks, scope.signal);
    const ending = await this.renewUntilEnded(signal);
    this.leading = false;
    scope.abort(new Error(`leadership ended (${ending})`));
    await work;
    if (ending === 'shutdown') await this.release();
    callbacks.onStoppedLeading();
  }

  private async lead(callbacks: LeaderCallbacks, leaderSignal: AbortSignal): Promise<void> {
    try {
      await callbacks.onStartedLeading(leaderSignal);
    } catch (err) {
      this.log.error({ error: errorMessage(err) }, 'leader work failed');
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if ((await this.attempt(this.renewDeadlineMs)) === 'acquired') return true;
      const pause = jitter(this.retryPeriodMs, ACQUIRE_JITTER, this.opts.random);
      if (!(await this.pause(pause, signal))) return false;
    }
    return false;
  }

  private async renewUntilEnded(signal: AbortSignal): Promise<Ending> {
    let lastRenew = this.opts.clock.now();
    for (;;) {
      if (!(await this.pause(this.retryPeriodMs, signal))) return 'shutdown';
      const deadline = lastRenew + this.renewDeadlineMs;
      const result = await this.attempt(deadline - this.opts.clock.now());
      const now = this.opts.clock.now();
      if (result === 'acquired') lastRenew = now;
      else if (result === 'held' || now >= deadline) return this.lost(result);
    }
  }

  private lost(result: Attempt): Ending {
    const why = result === 'held' ? 'another replica holds the lease' : 'renew deadline passed';
    this.log.warn({ holder: this.observedLeader() }, `lost leadership: ${why}`);
    return 'lost';
  }

  /**
   * One try, bounded by `budgetMs`; failures are logged and reported as 'failed'. A try that runs
   * out of time is abandoned: if its read of the lease answers late, it writes nothing (a replica
   * that has just stepped down must not renew the lease while it exits).
   */
  private async attempt(budgetMs: number): Promise<Attempt> {
    const abandoned = new AbortController();
    try {
      const result = await this.withDeadline(this.tryAcquireOrRenew(abandoned.signal), budgetMs);
      if (result !== TIMED_OUT) return result;
      abandoned.abort();
      this.log.warn({ budgetMs }, 'lease request timed out');
    } catch (err) {
      if (err instanceof ConflictError) this.log.debug('lease changed concurrently; another replica won this round');
      else this.log.warn({ error: errorMessage(err) }, 'lease request failed');
    }
    return 'failed';
  }

  private async tryAcquireOrRenew(abandoned: AbortSignal): Promise<Attempt> {
    const current = await this.opts.kube.get<Lease>(LEASE, this.opts.name, this.opts.namespace);
    if (abandoned.aborted) return 'failed';
    const now = this.opts.clock.now();
    if (!current) return this.write(undefined, {}, now);
    const spec = parseSpec(current, this.log);
    this.observe(current, spec, now);
    if (this.heldByOther(spec, now)) return 'held';
    return this.write(current, spec, now);
  }

  private heldByOther(spec: LeaseSpec, now: number): boolean {
    const holder = spec.holderIdentity;
    if (!holder || holder === this.opts.identity) return false;
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    return (this.observed?.at ?? now) + durationMs > now;
  }

  /** Creates the lease (when `current` is undefined) or replaces it at its resourceVersion. */
  private async write(current: Lease | undefined, spec: LeaseSpec, now: number): Promise<Attempt> {
    const desired: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: current?.metadata ?? { name: this.opts.name, namespace: this.opts.namespace },
      spec: this.buildSpec(spec, now),
    };
    const written = current ? await this.opts.kube.replace(LEASE, desired) : await this.opts.kube.create(LEASE, desired);
    this.observed = undefined;
    this.observe(written, written.spec ?? {}, now);
    return 'acquired';
  }

  private buildSpec(spec: LeaseSpec, now: number): LeaseSpec {
    const mine = spec.holderIdentity === this.opts.identity;
    const stamp = microTime(now);
    return {
      ...spec,
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : stamp,
      renewTime: stamp,
      leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? -1) + 1,
    };
  }

  private observe(lease: Lease, spec: LeaseSpec, now: number): void {
    const resourceVersion = lease.metadata.resourceVersion ?? '';
    if (this.observed?.resourceVersion === resourceVersion) return;
    this.observed = { resourceVersion, holder: spec.holderIdentity ?? undefined, at: now };
  }

  /** Hands the lease over: empty holder and a 1s duration, so a standby takes it at its next try. */
  private async release(): Promise<void> {
    try {
      const result = await this.withDeadline(this.writeRelease(), this.renewDeadlineMs);
      if (result === TIMED_OUT) this.log.warn('releasing the lease timed out; it will expire instead');
    } catch (err) {
      this.log.warn({ error: errorMessage(err) }, 'could not release the lease; it will expire instead');
    }
  }

  private async writeRelease(): Promise<void> {
    const current = await this.opts.kube.get<Lease>(LEASE, this.opts.name, this.opts.namespace);
    if (!current) return;
    const spec = parseSpec(current, this.log);
    if (spec.holderIdentity !== this.opts.identity) return;
    const stamp = microTime(this.opts.clock.now());
    const released = { ...spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: stamp, renewTime: stamp };
    await this.opts.kube.replace(LEASE, { ...current, spec: released });
    this.log.info('released the lease');
  }

  /** Sleeps `ms`; false if `signal` aborted first. */
  private async pause(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await this.opts.clock.sleep(ms, signal);
      return true;
    } catch {
      return false;
    }
  }

  private async withDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
    const cancel = new AbortController();
    const timedOut = (): typeof TIMED_OUT => TIMED_OUT;
    const timeout = this.opts.clock.sleep(Math.max(0, ms), cancel.signal).then(timedOut, timedOut);
    try {
      return await Promise.race([work, timeout]);
    } finally {
      cancel.abort();
    }
  }
}

function parseSpec(lease: Lease, log: Logger): LeaseSpec {
  const spec = lease.spec ?? {};
  const issues = findLeaseSpecIssues(spec);
  if (issues.length === 0) return { ...spec };
  log.warn({ issues }, 'lease spec is malformed; treating it as free');
  return {};
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
