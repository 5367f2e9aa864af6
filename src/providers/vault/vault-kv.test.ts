import { InvalidRefError } from '../provider-errors.js';
import { KvPaths, parseCustomMetadata, parseKey, parseKvData, parseKvList, secretValue } from './vault-kv.js';

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
