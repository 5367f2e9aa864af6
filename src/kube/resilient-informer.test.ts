import type { ListRequestOptions, ListResult, ListWatchSource } from './kube-client.js';
import { buildKubeError, buildTransportError } from './kube-errors.js';
import { CoreResources, objectKey, type Informer, type KubeObject, type Resource } from './kube-port.js';
import { WatchIdleError, type WatchEvent, type WatchOptions } from './kube-watch.js';
import { createInformer, type InformerLog, type InformerOptions } from './resilient-informer.js';

interface OpenWatch {
  opts: WatchOptions;
  emit(event: WatchEvent): void;
  end(): void;
  fail(err: unknown): void;
  signal: AbortSignal;
}

/** An in-memory API server for one resource: list and watch with resourceVersions. */
class FakeSource implements ListWatchSource {
  readonly objects = new Map<string, KubeObject>();
  readonly watches: OpenWatch[] = [];
  readonly listCalls: ListRequestOptions[] = [];
  listFailures: unknown[] = [];
  watchFailures: unknown[] = [];
  private rv = 100;

  async list<T extends KubeObject>(_res: Resource, opts: ListRequestOptions = {}): Promise<ListResult<T>> {
    this.listCalls.push(opts);
    await Promise.resolve();
    const failure = this.listFailures.shift();
    if (failure) throw failure;
    return { items: [...this.objects.values()] as T[], resourceVersion: String(this.rv) };
  }

  watch<T extends KubeObject>(_res: Resource, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const failure = this.watchFailures.shift();
      if (failure) return reject(failure);
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.watches.push({ opts, signal, emit: (e) => onEvent(e as WatchEvent<T>), end: resolve, fail: reject });
    });
  }

  get current(): OpenWatch | undefined {
    const last = this.watches.at(-1);
    return last && !last.signal.aborted ? last : undefined;
  }

  put(name: string, labels: Record<string, string> = {}): KubeObject {
    const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'a', labels, resourceVersion: String(++this.rv) } };
    const type = this.objects.has(objectKey(obj.metadata)) ? 'MODIFIED' : 'ADDED';
    this.objects.set(objectKey(obj.metadata), obj);
    this.current?.emit({ type, object: obj });
    return obj;
  }

  remove(name: string): void {
    const obj = this.objects.get(`a/${name}`);
    if (!obj) return;
    this.objects.delete(`a/${name}`);
    this.current?.emit({ type: 'DELETED', object: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } } });
  }

  /** Changes that happen while no watch is open (seen only through a relist). */
  putSilently(name: string): void {
    const obj = { metadata: { name, namespace: 'a', resourceVersion: String(++this.rv) } };
    this.objects.set(objectKey(obj.metadata), obj);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function recordingLog() {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj, msg });
  const log: InformerLog = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
}

describe('createInformer', () => {
  let source: FakeSource;
  let informer: Informer<KubeObject> | undefined;
  let events: string[];
  const logged = recordingLog();

  function make(opts: Partial<InformerOptions> = {}): Informer<KubeObject> {
    informer = createInformer<KubeObject>(source, CoreResources.secret, {
      log: logged.log, backoff: { baseMs: 10, maxMs: 40 }, random: () => 1, ...opts,
    });
    informer.on('add', (o) => events.push(`add:${o.metadata.name}`));
    informer.on('update', (o, old) => events.push(`update:${o.metadata.name}:${old?.metadata.resourceVersion}->${o.metadata.resourceVersion}`));
    informer.on('delete', (o) => events.push(`delete:${o.metadata.name}`));
    return informer;
  }

  beforeEach(() => {
    source = new FakeSource();
    events = [];
    logged.lines.length = 0;
  });
  afterEach(() => informer?.stop());

  it('lists, becomes synced, then follows add/update/delete from the watch', async () => {
    source.put('one');
    const inf = make({ namespace: 'a', labelSelector: 'x=y' });
    expect(inf.hasSynced()).toBe(false);
    await inf.start();
    expect(inf.hasSynced()).toBe(true);
    expect(source.listCalls[0]).toMatchObject({ namespace: 'a', labelSelector: 'x=y' });
    await until('watch', () => source.current !== undefined);
    expect(source.current?.opts).toMatchObject({ resourceVersion: '101', allowWatchBookmarks: true, labelSelector: 'x=y' });

    source.put('two');
    source.put('one');
    source.remove('two');
    expect(events).toEqual(['add:one', 'add:two', 'update:one:101->103', 'delete:two']);
    expect(inf.get('one', 'a')?.metadata.resourceVersion).toBe('103');
    expect(inf.list('a').map((o) => o.metadata.name)).toEqual(['one']);
    expect(inf.list('other')).toEqual([]);
  });

  it('names only: the list trims each item to its name, reads give name and namespace, modifications are no change', async () => {
    source.put('one', { team: 'x' });
    const inf = make({ namesOnly: true, metadataOnly: true });
    await inf.start();
    expect(source.listCalls[0]).toMatchObject({ metadataOnly: true });
    const trimmed = source.listCalls[0]?.transform?.({ metadata: { name: 'n', namespace: 'a', uid: 'u', resourceVersion: '9' } });
    expect(trimmed).toEqual({ metadata: { name: 'n', namespace: 'a' } });
    expect(inf.get('one', 'a')).toEqual({ metadata: { name: 'one', namespace: 'a' } });
    await until('watch', () => source.current !== undefined);
    source.put('two');
    source.put('one');
    source.remove('two');
    expect(events).toEqual(['add:one', 'add:two', 'delete:two']);
    expect(inf.list('a')).toEqual([{ metadata: { name: 'one', namespace: 'a' } }]);
    expect(inf.get('two', 'a')).toBeUndefined();
  });

  it('replays adds to handlers registered after the initial list', async () => {
    source.put('one');
    const inf = make();
    await inf.start();
    const late: string[] = [];
    inf.on('add', (o) => late.push(o.metadata.name ?? ''));
    expect(late).toEqual(['one']);
  });

  it('resumes from the last resourceVersion (bookmarks included) after a watch error, with backoff', async () => {
    const inf = make();
    await inf.start();
    await until('watch', () => source.current !== undefined);
    source.put('one');
    source.current?.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '555' } } });
    source.current?.fail(buildTransportError('watch secrets', new Error('other side closed')));
    await until('second watch', () => source.watches.length === 2 && source.current !== undefined);
    expect(source.current?.opts.resourceVersion).toBe('555');
    expect(source.listCalls).toHaveLength(1);
    expect(logged.lines.find((l) => l.level === 'warn')?.obj).toMatchObject({ attempt: 1, delayMs: 10 });
  });

  it('relists on 410 Gone and emits what changed meanwhile', async () => {
    source.put('keep');
    source.put('gone');
    const inf = make();
    await inf.start();
    await until('watch', () => source.current !== undefined);
    source.objects.delete('a/gone');
    source.putSilently('new');
    source.current?.emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } as never });
    await until('relist', () => source.listCalls.length === 2 && source.current !== undefined);
    expect(events.slice(0, 2)).toEqual(['add:keep', 'add:gone']);
    expect(events.slice(2).sort()).toEqual(['add:new', 'delete:gone']);
    expect(logged.lines.some((l) => l.level === 'warn')).toBe(false);
  });

  it('keeps retrying with capped backoff while the server is down, then recovers', async () => {
    source.listFailures = Array.from({ length: 5 }, () => buildTransportError('list secrets', new Error('ECONNREFUSED')));
    const inf = make();
    const started = inf.start();
    await started;
    expect(source.listCalls).toHaveLength(6);
    const delays = logged.lines.filter((l) => l.level === 'warn').map((l) => (l.obj as { delayMs: number }).delayMs);
    expect(delays).toEqual([10, 20, 40, 40, 40]);
  });

  it('restarts the whole cycle on any error, including HTTP errors of the watch', async () => {
    const inf = make();
    await inf.start();
    source.watchFailures = [buildKubeError(500, '', 'watch secrets'), buildKubeError(403, '', 'watch secrets')];
    await until('first watch', () => source.current !== undefined);
    source.current?.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '300' } } });
    source.current?.end(); // server closed a healthy watch; the next two attempts fail
    await until('recovered watch', () => source.watches.length === 2 && source.current !== undefined);
    expect(logged.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('resumes at once after an idle timeout', async () => {
    const inf = make();
    await inf.start();
    await until('watch', () => source.current !== undefined);
    source.current?.fail(new WatchIdleError(1));
    await until('second watch', () => source.watches.length === 2 && source.current !== undefined);
    expect(logged.lines.some((l) => l.level === 'warn')).toBe(false);
  });

  it('relists when the watch stays silent longer than watchdogMs', async () => {
    source.put('one');
    const inf = make({ watchdogMs: 150 });
    await inf.start();
    await until('watch', () => source.current !== undefined);
    const first = source.watches[0];
    await until('watchdog relist', () => source.listCalls.length === 2, 2000);
    expect(first?.signal.aborted).toBe(true);
    expect(logged.lines.some((l) => l.msg.includes('silent'))).toBe(true);
    await until('new watch', () => source.current !== undefined && source.current !== first);
  });

  it('does not relist while bookmarks keep arriving', async () => {
    const inf = make({ watchdogMs: 150 });
    await inf.start();
    await until('watch', () => source.current !== undefined);
    for (let i = 0; i < 8; i++) {
      source.current?.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(200 + i) } } });
      await sleep(50);
    }
    expect(source.listCalls).toHaveLength(1);
  });

  it('treats a watch that closes at once without events as a failure', async () => {
    const inf = make();
    await inf.start();
    await until('watch', () => source.current !== undefined);
    source.current?.end();
    await until('second watch', () => source.watches.length === 2);
    expect(logged.lines.find((l) => l.level === 'warn')?.obj).toMatchObject({ attempt: 1 });
  });

  it('re-emits update for every cached object on resync', async () => {
    source.put('one');
    const inf = make({ resyncMs: 40 });
    await inf.start();
    await until('resync', () => events.includes('update:one:101->101'));
  });

  it('survives a throwing handler', async () => {
    source.put('one');
    const inf = make();
    inf.on('add', () => { throw new Error('handler bug'); });
    await inf.start();
    await until('watch', () => source.current !== undefined);
    source.put('two');
    expect(events).toEqual(['add:one', 'add:two']);
    expect(logged.lines.filter((l) => l.level === 'error')).toHaveLength(2);
  });

  it('stops cleanly: aborts the watch, resolves a pending start, leaves no timers behind', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    source.listFailures = [buildTransportError('list', new Error('down'))];
    const inf = make({ resyncMs: 10_000, watchdogMs: 60_000 });
    const started = inf.start();
    inf.stop();
    await started;
    expect(inf.hasSynced()).toBe(false);

    const again = make({ resyncMs: 10_000, watchdogMs: 60_000 });
    await again.start();
    await until('watch', () => source.current !== undefined);
    const open = source.current;
    again.stop();
    expect(open?.signal.aborted).toBe(true);
    // Process-wide count: a short timer of something else may still be pending, so allow it a
    // second to fire; the informer's own (10 s resync, 60 s watchdog) would still be there.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    for (let waited = 0; timers() > timersBefore && waited < 1000; waited += 30) await sleep(30);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    const calls = source.listCalls.length;
    await sleep(60);
    expect(source.listCalls).toHaveLength(calls);
  });
});
