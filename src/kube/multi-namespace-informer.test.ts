import type { Informer, KubeObject } from './kube-port.js';
import { mergeNamespaceInformers } from './multi-namespace-informer.js';

type Handler = (obj: KubeObject, old?: KubeObject) => void;

/** An in-memory informer over one namespace's objects. */
function fakeInformer(namespace: string, names: string[]) {
  const objects = names.map((name) => ({ metadata: { name, namespace } }));
  const handlers: Handler[] = [];
  let synced = false;
  const informer: Informer<KubeObject> & { emit(o: KubeObject): void; stopped: boolean } = {
    stopped: false,
    start: async () => { synced = true; },
    stop() { this.stopped = true; },
    hasSynced: () => synced,
    get: (name) => objects.find((o) => o.metadata.name === name),
    list: () => objects,
    on: (_event, h) => { handlers.push(h); },
    emit: (o) => { for (const h of handlers) h(o); },
  };
  return informer;
}

describe('mergeNamespaceInformers', () => {
  test('reads each namespace from its own informer and lists them all without a namespace', async () => {
    const a = fakeInformer('team-a', ['db', 'api']);
    const b = fakeInformer('team-b', ['db']);
    const merged = mergeNamespaceInformers(new Map([['team-a', a], ['team-b', b]]));
    expect(merged.hasSynced()).toBe(false);
    await merged.start();
    expect(merged.hasSynced()).toBe(true);

    expect(merged.get('db', 'team-b')?.metadata.namespace).toBe('team-b');
    expect(merged.get('api', 'team-b')).toBeUndefined();
    expect(merged.get('db', 'team-c')).toBeUndefined();
    expect(merged.list('team-a').map((o) => o.metadata.name)).toEqual(['db', 'api']);
    expect(merged.list('team-c')).toEqual([]);
    expect(merged.list().map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['team-a/db', 'team-a/api', 'team-b/db']);

    const seen: string[] = [];
    merged.on('add', (o) => seen.push(`${o.metadata.namespace}/${o.metadata.name}`));
    b.emit({ metadata: { name: 'new', namespace: 'team-b' } });
    a.emit({ metadata: { name: 'other', namespace: 'team-a' } });
    expect(seen).toEqual(['team-b/new', 'team-a/other']);

    merged.stop();
    expect(a.stopped && b.stopped).toBe(true);
  });
});
