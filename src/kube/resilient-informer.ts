import { systemClock, type Clock } from '../runtime/clock.js';
import { computeBackoffMs, type BackoffPolicy } from './backoff-policy.js';
import type { ListWatchSource } from './kube-client.js';
import { GoneError, KubeError } from './kube-errors.js';
import { InformerCache, type ObjectCache, type RelistChanges } from './informer-cache.js';
import { objectKey, type Informer, type KubeObject, type Resource } from './kube-port.js';
import { buildNameOnly, NameCache } from './name-cache.js';
import { WatchIdleError, watchErrorOf, type WatchEvent } from './kube-watch.js';

/** The log calls the informer makes (a pino Logger fits). */
export interface InformerLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-emit `update(obj, obj)` for every cached object this often (0/undefined: never). */
  resyncMs?: number;
  /**
   * Relist when no event or bookmark arrived for this long (default 5 min): the last line of defence
   * against a watch that stays connected but delivers nothing. On a type nobody writes this costs
   * one list every watchdogMs.
   */
  watchdogMs?: number;
  /**
   * Resume a watch that received no byte for this long (default 90 s). The API server sends a
   * bookmark about every 60 s, but only when the resource type changed somewhere in the cluster;
   * a watch on a type nobody writes is therefore resumed (one cheap request) every idleTimeoutMs.
   */
  idleTimeoutMs?: number;
  /** Server-side lifetime of one watch, drawn from [min, min*2) seconds (default min 300, like client-go). */
  watchTimeoutSeconds?: number;
  backoff?: BackoffPolicy;
  /** Cache PartialObjectMetadata instead of full objects (no `data` of Secrets in memory). */
  metadataOnly?: boolean;
  /**
   * Applied to every object before it is cached or handed to handlers, like client-go's
   * SetTransform: keep only the fields readers need (an index of many objects stays small).
   */
  transform?: (obj: KubeObject) => KubeObject;
  /**
   * Keep only which objects exist (`NameCache`): reads return `{ metadata: { name, namespace } }`,
   * handlers get adds and deletes. The list trims each item to that as its page arrives.
   */
  namesOnly?: boolean;
  log: InformerLog;
  clock?: Clock;
  random?: () => number;
}

type Handler<T> = (obj: T, old?: T) => void;
type EventName = 'add' | 'update' | 'delete';

const DEFAULT_WATCHDOG_MS = 5 * 60_000;
const DEFAULT_IDLE_TIMEOUT_MS = 90_000;
const DEFAULT_WATCH_TIMEOUT_S = 300;
/** A watch that ends sooner than this without delivering anything counts as a failure. */
const MIN_HEALTHY_WATCH_MS = 1_000;

/** Thrown into the current list/watch cycle by the watchdog. */
export class WatchdogTimeout extends Error {
  constructor(silentMs: number) {
    super(`no watch event or bookmark for ${silentMs} ms`);
    this.name = 'WatchdogTimeout';
  }
}

/**
 * A list+watch cache of one resource that never gives up: every failure restarts the cycle after a
 * capped, jittered backoff; 410 Gone relists; a watchdog relists after a silent period; a watch
 * whose connection goes quiet is restarted from its resourceVersion.
 */
export function createInformer<T extends KubeObject>(
  source: ListWatchSource, resource: Resource, opts: InformerOptions,
): Informer<T> {
  return new ResilientInformer<T>(source, resource, opts);
}

/** The list transform of a names-only informer. */
function keepName(obj: KubeObject): KubeObject {
  return buildNameOnly(obj.metadata.name, obj.metadata.namespace);
}

class ResilientInformer<T extends KubeObject> implements Informer<T> {
  private readonly cache: ObjectCache<T>;
  private readonly handlers: Record<EventName, Handler<T>[]> = { add: [], update: [], delete: [] };
  private readonly stopper = new AbortController();
  private readonly clock: Clock;
  private readonly syncWaiters: (() => void)[] = [];
  private cycle = new AbortController();
  private resourceVersion = '';
  private synced = false;
  private started = false;
  private failures = 0;
  private lastActivity = 0;

  constructor(private readonly source: ListWatchSource, private readonly resource: Resource, private readonly opts: InformerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.cache = opts.namesOnly ? new NameCache<T>() : new InformerCache<T>(opts.transform as ((obj: T) => T) | undefined);
  }

  /** Resolves after the first successful list (or when stopped before it). */
  start(): Promise<void> {
    if (!this.started && !this.stopped) {
      this.started = true;
      this.lastActivity = this.clock.now();
      void this.runLoop();
      void this.watchdogLoop();
      if (this.opts.resyncMs) void this.resyncLoop(this.opts.resyncMs);
    }
    return this.synced || this.stopped ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopper.abort(new Error('informer stopped'));
    this.cycle.abort(this.stopper.signal.reason);
    this.releaseWaiters();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(objectKey({ name, namespace: this.resource.namespaced ? namespace : undefined }));
  }

  list(namespace?: string): T[] {
    return this.cache.list(namespace);
  }

  /** Handlers added after the initial list first receive an `add` for every cached object. */
  on(event: EventName, handler: Handler<T>): void {
    this.handlers[event].push(handler);
    if (event === 'add' && this.synced) for (const obj of this.cache.list()) this.call(handler, obj);
  }

  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private get log(): InformerLog {
    return this.opts.log;
  }

  private async runLoop(): Promise<void> {
    while (!this.stopped) {
      this.cycle = new AbortController();
      const signal = this.cycle.signal;
      try {
        if (!this.resourceVersion) await this.relist(signal);
        if (!signal.aborted) await this.watchOnce(signal);
      } catch (err) {
        await this.recover(err, signal);
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const { namespace, labelSelector, fieldSelector, metadataOnly } = this.opts;
    // The transform runs on each page as it arrives: a list of 10,000 Deployments never sits in
    // memory whole, only what the cache keeps of them.
    const transform = this.opts.namesOnly ? keepName : this.opts.transform;
    const list = await this.source.list<T>(this.resource, { namespace, labelSelector, fieldSelector, metadataOnly, transform, signal });
    if (signal.aborted) return;
    const changes = this.cache.replace(list.items, transform !== undefined);
    this.resourceVersion = list.resourceVersion;
    this.lastActivity = this.clock.now();
    this.log.debug({ resource: this.resource.plural, count: list.items.length }, 'informer listed');
    this.dispatchRelist(changes);
    this.markSynced();
  }

  private async watchOnce(cycle: AbortSignal): Promise<void> {
    const startedAt = this.clock.now();
    const local = new AbortController();
    let events = 0;
    const onEvent = (event: WatchEvent<T>) => {
      events++;
      const error = this.applyWatchEvent(event);
      if (error) local.abort(error);
    };
    try {
      await this.source.watch<T>(this.resource, this.watchOptions(), onEvent, AbortSignal.any([cycle, local.signal]));
    } finally {
      local.abort();
    }
    if (events === 0 && this.clock.now() - startedAt < MIN_HEALTHY_WATCH_MS) {
      throw new KubeError(`watch ${this.resource.plural}: closed at once without events`, 0, 'WatchClosed');
    }
  }

  private watchOptions() {
    const min = this.opts.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_S;
    return {
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      metadataOnly: this.opts.metadataOnly,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.floor(min * (1 + this.random())),
      idleTimeoutMs: this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    };
  }

  /** Applies one event to the cache; returns the error an ERROR event carries. */
  private applyWatchEvent(event: WatchEvent<T>): KubeError | undefined {
    if (event.type === 'ERROR') return watchErrorOf(event, this.resource);
    this.lastActivity = this.clock.now();
    this.failures = 0;
    const rv = event.object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return undefined;
    const change = event.type === 'DELETED' ? this.cache.remove(event.object) : this.cache.upsert(event.object);
    if (change) this.emit(change.type, change.obj, change.type === 'update' ? change.old : undefined);
    return undefined;
  }

  /** Decides how the next cycle starts after `err`; waits out the backoff when there is one. */
  private async recover(err: unknown, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return; // stopped, or the watchdog already asked for a relist
    if (err instanceof WatchIdleError) {
      this.log.debug({ resource: this.resource.plural }, 'watch idle; resuming');
      return;
    }
    if (err instanceof GoneError) {
      this.resourceVersion = '';
      this.log.info({ resource: this.resource.plural }, 'watch expired (410); relisting');
      if (this.failures++ === 0) return;
    } else {
      this.failures++;
    }
    const delayMs = computeBackoffMs(this.failures, this.opts.backoff, () => this.random());
    this.log.warn({ resource: this.resource.plural, err, attempt: this.failures, delayMs }, 'list/watch failed; retrying');
    await this.pause(delayMs, signal);
  }

  private async watchdogLoop(): Promise<void> {
    const limit = this.opts.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    const every = Math.min(Math.max(limit / 5, 100), 30_000);
    while (await this.pause(every, this.stopper.signal)) {
      const silentMs = this.clock.now() - this.lastActivity;
      if (silentMs < limit) continue;
      this.log.warn({ resource: this.resource.plural, silentMs }, 'watch silent too long; relisting');
      this.lastActivity = this.clock.now();
      this.resourceVersion = '';
      this.cycle.abort(new WatchdogTimeout(silentMs));
    }
  }

  private async resyncLoop(everyMs: number): Promise<void> {
    while (await this.pause(everyMs, this.stopper.signal)) {
      if (!this.synced) continue;
      for (const obj of this.cache.list()) this.emit('update', obj, obj);
    }
  }

  /** Sleeps; false when `signal` aborted first. */
  private async pause(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await this.clock.sleep(ms, signal);
      return !signal.aborted;
    } catch {
      return false;
    }
  }

  private dispatchRelist(changes: RelistChanges<T>): void {
    for (const obj of changes.added) this.emit('add', obj);
    for (const { obj, old } of changes.updated) this.emit('update', obj, old);
    for (const obj of changes.deleted) this.emit('delete', obj);
  }

  private emit(event: EventName, obj: T, old?: T): void {
    for (const handler of this.handlers[event]) this.call(handler, obj, old);
  }

  private call(handler: Handler<T>, obj: T, old?: T): void {
    try {
      handler(obj, old);
    } catch (err) {
      this.log.error({ resource: this.resource.plural, key: objectKey(obj.metadata), err }, 'informer handler threw');
    }
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  private random(): number {
    return (this.opts.random ?? Math.random)();
  }
}
