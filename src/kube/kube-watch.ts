import { KubeError, buildKubeError, buildTransportError } from './kube-errors.js';
import { buildQuery, buildResourceLabel, buildResourcePath, describeTarget } from './kube-paths.js';
import type { KubeObject, Resource } from './kube-port.js';
import type { KubeTransport } from './kube-transport.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  /** The object; for ERROR a `Status` (see `watchErrorOf`). */
  object: T;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Resume point; '' or undefined means "any" (the server starts with synthetic ADDED events). */
  resourceVersion?: string;
  /** Ask the server for BOOKMARK events (on by default). */
  allowWatchBookmarks?: boolean;
  /** Server-side end of the watch; the server closes it cleanly after this many seconds. */
  timeoutSeconds?: number;
  /** Abort the watch when no byte arrived for this long (default 90 s, above the ~60 s bookmark period). */
  idleTimeoutMs?: number;
  /** Ask for PartialObjectMetadata instead of full objects. */
  metadataOnly?: boolean;
}

/** The watch saw no data for `idleTimeoutMs`: the connection may be silently dead. */
export class WatchIdleError extends KubeError {
  constructor(ms: number) {
    super(`watch: no data for ${ms} ms`, 0, 'WatchIdle');
  }
}

export const DEFAULT_IDLE_TIMEOUT_MS = 90_000;
export const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/**
 * One watch request. Resolves when the server ends the stream; rejects on a network error,
 * an HTTP error (mapped, e.g. GoneError), `WatchIdleError`, or with the reason of `signal`.
 * An ERROR event is delivered to `onEvent` like any other; the server closes the stream after it.
 */
export async function watchResource<T extends KubeObject>(
  transport: KubeTransport, res: Resource, opts: WatchOptions,
  onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal,
): Promise<void> {
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const own = new AbortController();
  const idle = new IdleTimer(idleMs, () => own.abort(new WatchIdleError(idleMs)));
  const linked = AbortSignal.any([signal, own.signal]);
  try {
    idle.reset();
    const response = await transport.openStream(buildWatchRequest(res, opts), linked);
    const stream = response.body.stream();
    if (!stream) return;
    await readJsonLines(stream, (line) => {
      idle.reset();
      onEvent(line as WatchEvent<T>);
    });
  } catch (err) {
    throw classifyWatchFailure(err, signal, own.signal, res);
  } finally {
    idle.clear();
    own.abort();
  }
}

function buildWatchRequest(res: Resource, opts: WatchOptions) {
  const query = buildQuery({
    watch: 'true',
    resourceVersion: opts.resourceVersion || undefined,
    allowWatchBookmarks: opts.allowWatchBookmarks ?? true,
    timeoutSeconds: opts.timeoutSeconds,
    labelSelector: opts.labelSelector,
    fieldSelector: opts.fieldSelector,
  });
  return {
    verb: 'watch', method: 'GET' as const,
    path: buildResourcePath(res, { namespace: opts.namespace }) + query,
    resource: buildResourceLabel(res), target: describeTarget(undefined, opts.namespace),
    accept: opts.metadataOnly ? METADATA_ACCEPT : undefined,
  };
}

function classifyWatchFailure(err: unknown, outer: AbortSignal, own: AbortSignal, res: Resource): unknown {
  if (outer.aborted) return outer.reason;
  if (own.aborted && own.reason instanceof WatchIdleError) return own.reason;
  if (err instanceof KubeError) return err;
  return buildTransportError(`watch ${buildResourceLabel(res)}`, err);
}

/** The error an ERROR watch event carries (410 Expired becomes a GoneError). */
export function watchErrorOf(event: WatchEvent, res: Resource): KubeError {
  const status = event.object as unknown as { code?: number };
  const code = typeof status.code === 'number' ? status.code : 500;
  return buildKubeError(code, JSON.stringify(event.object), `watch ${buildResourceLabel(res)}`);
}

/** Reads newline-delimited JSON; lines that do not parse are skipped. */
export async function readJsonLines(stream: ReadableStream<Uint8Array>, onLine: (value: unknown) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      buffer = emitCompleteLines(buffer, onLine);
    }
    emitCompleteLines(`${buffer}${decoder.decode()}\n`, onLine);
  } finally {
    reader.releaseLock();
  }
}

function emitCompleteLines(buffer: string, onLine: (value: unknown) => void): string {
  let start = 0;
  for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n', start)) {
    const line = buffer.slice(start, nl).trim();
    start = nl + 1;
    if (line) parseAndEmit(line, onLine);
  }
  return buffer.slice(start);
}

function parseAndEmit(line: string, onLine: (value: unknown) => void): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return;
  }
  onLine(value);
}

/** A restartable one-shot timer that does not keep the process alive. */
class IdleTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ms: number, private readonly onIdle: () => void) {}

  reset(): void {
    this.clear();
    this.timer = setTimeout(this.onIdle, this.ms);
    this.timer.unref();
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
