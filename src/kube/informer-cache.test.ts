import { InformerCache } from './informer-cache.js';
import type { KubeObject } from './kube-port.js';

const obj = (name: string, rv: string, namespace = 'a'): KubeObject => ({ metadata: { name, namespace, resourceVersion: rv } });

describe('InformerCache', () => {
  it('reports add, update (with old) and no change for the same resourceVersion', () => {
    const cache = new InformerCache<KubeObject>();
    expect(cache.upsert(obj('x', '1'))).toEqual({ type: 'add', obj: obj('x', '1') });
    expect(cache.upsert(obj('x', '1'))).toBeUndefined();
    expect(cache.upsert(obj('x', '2'))).toEqual({ type: 'update', obj: obj('x', '2'), old: obj('x', '1') });
    expect(cache.get('a/x')).toEqual(obj('x', '2'));
  });

  it('removes with the final state and ignores unknown objects', () => {
    const cache = new InformerCache<KubeObject>();
    cache.upsert(obj('x', '1'));
    expect(cache.remove(obj('x', '3'))).toEqual({ type: 'delete', obj: obj('x', '3') });
    expect(cache.remove(obj('x', '3'))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('diffs a relist and filters by namespace', () => {
    const cache = new InformerCache<KubeObject>();
    cache.replace([obj('keep', '1'), obj('change', '1'), obj('gone', '1', 'b')]);
    const changes = cache.replace([obj('keep', '1'), obj('change', '2'), obj('new', '5', 'b')]);
    expect(changes).toEqual({ added: [obj('new', '5', 'b')], updated: [{ obj: obj('change', '2'), old: obj('change', '1') }], deleted: [obj('gone', '1', 'b')] });
    expect(cache.list('a').map((o) => o.metadata.name).sort()).toEqual(['change', 'keep']);
    expect(cache.list().length).toBe(3);
    expect(cache.size).toBe(3);
    expect(cache.get('b/gone')).toBeUndefined();
  });

  it('reports every object of a first list as added, and shares one namespace string', () => {
    const cache = new InformerCache<KubeObject>();
    const items = [obj('x', '1'), obj('y', '1'), obj('z', '1', 'b')];
    const changes = cache.replace(items);
    expect(changes.added.map((o) => o.metadata.name)).toEqual(['x', 'y', 'z']);
    expect(changes.updated).toEqual([]);
    expect(changes.deleted).toEqual([]);
    expect(cache.size).toBe(3);
  });

  it('lists by namespace from an index that follows adds, deletes and relists, and drops managedFields', () => {
    const cache = new InformerCache<KubeObject>();
    cache.upsert({ metadata: { name: 'm', namespace: 'a', resourceVersion: '1', managedFields: [{ manager: 'x' }] } });
    cache.upsert(obj('n', '1', 'b'));
    expect(cache.get('a/m')?.metadata.managedFields).toBeUndefined();
    expect(cache.list('a').map((o) => o.metadata.name)).toEqual(['m']);
    cache.remove(obj('m', '1'));
    expect(cache.list('a')).toEqual([]);
    cache.replace([obj('p', '1', 'a')]);
    expect(cache.list('b')).toEqual([]);
    expect(cache.list('a').map((o) => o.metadata.name)).toEqual(['p']);
  });

  it("drops kubectl's last-applied-configuration and keeps every other annotation", () => {
    const cache = new InformerCache<KubeObject>();
    const manifest = JSON.stringify({ spec: { data: 'x'.repeat(2000) } });
    cache.upsert({ metadata: { name: 'es', namespace: 'a', resourceVersion: '1', annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': manifest, 'lockstep.dev/force-sync': '1' } } });
    cache.upsert({ metadata: { name: 'only', namespace: 'a', resourceVersion: '1', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': manifest } } });
    expect(cache.get('a/es')?.metadata.annotations).toEqual({ 'lockstep.dev/force-sync': '1' });
    expect(cache.get('a/only')?.metadata.annotations).toBeUndefined();
  });

  it('caches what the transform keeps, and hands handlers the transformed object', () => {
    const trim = (o: KubeObject): KubeObject => ({ metadata: { name: o.metadata.name, namespace: o.metadata.namespace, resourceVersion: o.metadata.resourceVersion } });
    const cache = new InformerCache<KubeObject>(trim);
    const big = { metadata: { name: 'x', namespace: 'a', resourceVersion: '1', annotations: { huge: 'y'.repeat(1000) } }, data: { k: 'v' } };
    expect(cache.upsert(big)).toEqual({ type: 'add', obj: obj('x', '1') });
    expect(cache.get('a/x')).toEqual(obj('x', '1'));
    expect(cache.remove({ ...big, metadata: { ...big.metadata, resourceVersion: '2' } })).toEqual({ type: 'delete', obj: obj('x', '2') });
  });
});

describe('InformerCache spec reuse', () => {
  const versioned = (rv: string, generation: number | undefined, spec: unknown): KubeObject =>
    ({ metadata: { name: 's', namespace: 'a', resourceVersion: rv, ...(generation !== undefined ? { generation } : {}) }, spec, status: { rv } });

  it('keeps the spec object it holds while the generation is the same (a status write), takes the new one when it changes', () => {
    const cache = new InformerCache<KubeObject>();
    const first = { data: ['x'] };
    cache.upsert(versioned('1', 1, first));
    const change = cache.upsert(versioned('2', 1, { data: ['x'] }));
    expect(change?.type).toBe('update');
    expect(cache.get('a/s')?.['spec']).toBe(first);
    expect(cache.get('a/s')?.['status']).toEqual({ rv: '2' });
    const edited = { data: ['y'] };
    cache.upsert(versioned('3', 2, edited));
    expect(cache.get('a/s')?.['spec']).toBe(edited);
    cache.replace([versioned('4', 2, { data: ['y'] })]);
    expect(cache.get('a/s')?.['spec']).toBe(edited);
  });

  it('takes the received spec for kinds without a generation', () => {
    const cache = new InformerCache<KubeObject>();
    cache.upsert(versioned('1', undefined, { data: ['x'] }));
    const received = { data: ['x'] };
    cache.upsert(versioned('2', undefined, received));
    expect(cache.get('a/s')?.['spec']).toBe(received);
  });
});
