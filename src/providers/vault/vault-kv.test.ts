import { InvalidRefError } from '../provider-errors.js';
import { buildDataWhole, KvPaths, parseCustomMetadata, parseKey, parseKvData, parseKvList, secretValue } from './vault-kv.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('KV paths', () => {
  it('builds v2 data, metadata and list paths, encoding each segment', () => {
    const kv = new KvPaths('/secret/', 'v2');
    expect(kv.mount).toBe('secret');
    expect(kv.data('team a/db')).toBe('secret/data/team%20a/db');
    expect(kv.data('db', '3')).toBe('secret/data/db?version=3');
    expect(kv.metadata('a/b')).toBe('secret/metadata/a/b');
    expect(kv.list('')).toBe('secret/metadata/');
    expect(kv.list('team/')).toBe('secret/metadata/team/');
  });

  it('builds v1 paths and refuses versions on v1', () => {
    const kv = new KvPaths('kv', 'v1');
    expect(kv.data('/a/b')).toBe('kv/a/b');
    expect(kv.list('a/')).toBe('kv/a/');
    expect(() => kv.data('a', '1')).toThrow(/KV v1 keeps no versions/);
  });

  it('refuses versions that are not positive whole numbers, and keys that are not secret paths', () => {
    const kv = new KvPaths('secret', 'v2');
    for (const version of ['0', 'latest', '-1', '1.5', '']) expect(() => kv.data('a', version)).toThrow(InvalidRefError);
    for (const key of ['', '/', 'a/', 'a//b', 'a/../b']) expect(() => parseKey(key)).toThrow(InvalidRefError);
    expect(kv.describe('a', '2')).toBe("remote key 'a' version '2' in secret/ (KV v2)");
  });
});

describe('KV responses', () => {
  it('finds the data map of v1 and v2 reads, and none for a deleted version', () => {
    expect(parseKvData({ data: { a: 1 } }, 'v1')).toEqual({ a: 1 });
    expect(parseKvData({ data: { data: { a: 1 }, metadata: {} } }, 'v2')).toEqual({ a: 1 });
    expect(parseKvData({ data: { data: null, metadata: { deletion_time: 'x' } } }, 'v2')).toBeUndefined();
    expect(parseKvData(undefined, 'v2')).toBeUndefined();
  });

  it('reads LIST keys and custom metadata defensively', () => {
    expect(parseKvList({ data: { keys: ['a', 'b/', 3] } })).toEqual(['a', 'b/']);
    expect(parseKvList({})).toEqual([]);
    expect(parseCustomMetadata({ data: { custom_metadata: { env: 'prod', n: 1 } } })).toEqual({ env: 'prod' });
    expect(parseCustomMetadata({ data: { custom_metadata: null } })).toEqual({});
  });

  it('values a secret as its JSON data map, or its only field `value`', () => {
    expect(dec(secretValue({ user: 'u', n: 1 }))).toBe('{"user":"u","n":1}');
    expect(dec(secretValue({ value: 'plain' }))).toBe('plain');
    expect(dec(secretValue({ value: { nested: true } }))).toBe('{"nested":true}');
    expect(dec(secretValue({ value: 'a', other: 'b' }))).toBe('{"value":"a","other":"b"}');
  });
});

describe('a data map read whole', () => {
  const decMap = (m: Map<string, Uint8Array>) => Object.fromEntries([...m].map(([k, v]) => [k, dec(v)]));

  it('selects fields as properties of the JSON data map, and is secretValue without one', () => {
    const whole = buildDataWhole({ value: '{"inner":"x"}' });
    expect(dec(whole.value({ key: 'k' }))).toBe('{"inner":"x"}');
    expect(dec(whole.value({ key: 'k', property: 'value' }))).toBe('{"inner":"x"}');
    expect(() => whole.value({ key: 'k', property: 'inner' })).toThrow(new InvalidRefError("property 'inner' does not exist in remote key 'k'"));
    const db = buildDataWhole({ user: 'u', pw: 'p', conf: { port: 5432 }, 'a.b': 'dotted' });
    expect(['user', 'pw', 'conf', 'conf.port', 'a.b'].map((property) => dec(db.value({ key: 'db', property })))).toEqual(['u', 'p', '{"port":5432}', '5432', 'dotted']);
    expect(dec(db.value({ key: 'db' }))).toBe('{"user":"u","pw":"p","conf":{"port":5432},"a.b":"dotted"}');
  });

  it('expands the data map, or the object at a property', () => {
    const db = buildDataWhole({ user: 'u', conf: { port: 5432 } });
    expect(decMap(db.map({ key: 'db' }))).toEqual({ user: 'u', conf: '{"port":5432}' });
    expect(decMap(db.map({ key: 'db', property: 'conf' }))).toEqual({ port: '5432' });
    expect(() => db.map({ key: 'db', property: 'user' })).toThrow(InvalidRefError);
  });
});
