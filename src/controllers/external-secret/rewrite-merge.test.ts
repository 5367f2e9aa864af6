import { InvalidRefError } from '../../providers/provider-errors.js';
import { applyRewrites, goJson, mergeValues } from './rewrite-merge.js';

const data = (o: Record<string, unknown>) => new Map(Object.entries(o).map(([k, v]) => [k, new Uint8Array(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)))]));
const dec = (m: Map<string, Uint8Array>) => Object.fromEntries([...m].map(([k, v]) => [k, Buffer.from(v).toString('utf8')]));

describe('rewrite merge (ESO semantics)', () => {
  const input = data({ 'b-creds': { user: 'b', port: 5432, tls: true, extra: { z: 1, a: [1, 'x'] } }, 'a-creds': { user: 'a', host: 'h' } });

  it('Extract: the fields become keys; keys merge in key order, so a later key wins with conflictPolicy Ignore', () => {
    expect(dec(mergeValues(input, { conflictPolicy: 'Ignore' }, 'f'))).toEqual({ user: 'b', host: 'h', port: '5432', tls: 'true', extra: '{"a":[1,"x"],"z":1}' });
  });

  it('priority keys merge last, in their order', () => {
    expect(dec(mergeValues(input, { conflictPolicy: 'Ignore', priority: ['a-creds'] }, 'f')).user).toBe('a');
  });

  it('a conflict fails by default, naming the fields', () => {
    expect(() => mergeValues(input, {}, 'dataFrom[0].rewrite[0].merge')).toThrow(InvalidRefError);
    expect(() => mergeValues(input, {}, 'dataFrom[0].rewrite[0].merge')).toThrow("dataFrom[0].rewrite[0].merge: fields 'user' come from more than one key");
  });

  it('a missing priority key fails under Strict and is skipped under IgnoreNotFound', () => {
    const one = data({ a: { x: '1' } });
    expect(() => mergeValues(one, { priority: ['gone'] }, 'f')).toThrow("the priority key 'gone'");
    expect(dec(mergeValues(one, { priority: ['gone'], priorityPolicy: 'IgnoreNotFound' }, 'f'))).toEqual({ x: '1' });
  });

  it('a value that is not a JSON object fails', () => {
    expect(() => mergeValues(data({ a: 'plain' }), {}, 'f')).toThrow("the value of key 'a' is not a JSON object");
    expect(() => mergeValues(data({ a: [1] }), {}, 'f')).toThrow('not a JSON object');
  });

  it('JSON: the keys stay and `into` holds the merged object, keys sorted as Go writes them', () => {
    const out = dec(mergeValues(data({ a: { y: 1 }, b: { x: 2 } }), { strategy: 'JSON', into: 'all.json' }, 'f'));
    expect(out).toEqual({ a: '{"y":1}', b: '{"x":2}', 'all.json': '{"x":2,"y":1}' });
  });

  it('applies regexp and merge rewrites in order', () => {
    const out = applyRewrites(data({ 'team/a': { k1: 'v1' }, 'team/b': { k2: 'v2' } }), [
      { regexp: { source: '^team/', target: '' } },
      { merge: { strategy: 'JSON', into: 'merged' } },
      { regexp: { source: '^merged$', target: 'config.json' } },
    ], 'dataFrom[0]');
    expect(dec(out)).toEqual({ a: '{"k1":"v1"}', b: '{"k2":"v2"}', 'config.json': '{"k1":"v1","k2":"v2"}' });
  });

  it('writes JSON as Go does', () => {
    expect(goJson({ b: [{ d: 1, c: null }], a: 'é"' })).toBe('{"a":"é\\"","b":[{"c":null,"d":1}]}');
  });
});
