import { NameCache } from './name-cache.js';
import type { KubeObject } from './kube-port.js';

const obj = (name: string, namespace = 'a', rv = '1'): KubeObject => ({ metadata: { name, namespace, resourceVersion: rv, uid: `uid-${name}`, labels: { team: 'x' } } });
const nameOnly = (name: string, namespace = 'a'): KubeObject => ({ metadata: { name, namespace } });

describe('NameCache', () => {
  it('holds names only: reads return name and namespace', () => {
    const cache = new NameCache<KubeObject>();
    expect(cache.upsert(obj('x'))).toEqual({ type: 'add', obj: nameOnly('x') });
    expect(cache.get('a/x')).toEqual(nameOnly('x'));
    expect(cache.get('a/y')).toBeUndefined();
    expect(cache.get('b/x')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('reports no change for a modification: nothing it holds can change', () => {
    const cache = new NameCache<KubeObject>();
    cache.upsert(obj('x'));
    expect(cache.upsert(obj('x', 'a', '2'))).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('removes, and ignores what it does not hold', () => {
    const cache = new NameCache<KubeObject>();
    cache.upsert(obj('x'));
    expect(cache.remove(obj('x', 'a', '3'))).toEqual({ type: 'delete', obj: nameOnly('x') });
    expect(cache.remove(obj('x'))).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.list()).toEqual([]);
  });

  it('diffs a relist into adds and deletes, and lists by namespace', () => {
    const cache = new NameCache<KubeObject>();
    expect(cache.replace([obj('keep'), obj('gone', 'b')]).added).toEqual([nameOnly('keep'), nameOnly('gone', 'b')]);
    const changes = cache.replace([obj('keep', 'a', '2'), obj('new', 'b')]);
    expect(changes).toEqual({ added: [nameOnly('new', 'b')], updated: [], deleted: [nameOnly('gone', 'b')] });
    expect(cache.list('a')).toEqual([nameOnly('keep')]);
    expect(cache.list().length).toBe(2);
    expect(cache.size).toBe(2);
  });

  it('hands a trimmed list its own items', () => {
    const cache = new NameCache<KubeObject>();
    const item = nameOnly('x');
    expect(cache.replace([item], true).added[0]).toBe(item);
  });

  it('holds cluster-scoped names without a namespace', () => {
    const cache = new NameCache<KubeObject>();
    cache.upsert({ metadata: { name: 'n', resourceVersion: '1' } });
    expect(cache.get('n')).toEqual({ metadata: { name: 'n' } });
    expect(cache.list()).toEqual([{ metadata: { name: 'n' } }]);
  });
});
