import { FakeSecretsClient } from '../../providers/fake/fake-provider.js';
import { InvalidRefError } from '../../providers/provider-errors.js';
import { fetchSecretData } from './data-fetcher.js';
import { convertKey, decodeValue } from './value-decoding.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const dec = (m: Map<string, Uint8Array>) => Object.fromEntries([...m].map(([k, v]) => [k, text(v)]));
const signal = new AbortController().signal;

describe('decodeValue (ESO decodingStrategy)', () => {
  it.each([
    ['None', 'aGk=', 'aGk='],
    ['Base64', 'aGk/Pz8=', 'hi???'],
    ['Base64URL', 'aGk_Pz8=', 'hi???'],
    ['Auto', 'aGk/Pz8=', 'hi???'],
    ['Auto', 'aGk_Pz8=', 'hi???'],
    ['Auto', 'plain text', 'plain text'],
    ['Auto', 'aGk', 'aGk'], // unpadded: not base64 for Go's StdEncoding either
  ] as const)('%s: %s → %s', (strategy, input, output) => {
    expect(text(decodeValue(bytes(input), strategy, 'k'))).toBe(output);
  });

  it('refuses a value that is not valid base64, naming the key and not the value', () => {
    expect(() => decodeValue(bytes('not base64!'), 'Base64', "remote key 'db'")).toThrow(InvalidRefError);
    expect(() => decodeValue(bytes('not base64!'), 'Base64', "remote key 'db'")).toThrow(/remote key 'db': decodingStrategy Base64/);
    expect(() => decodeValue(bytes('aGk/Pz8='), 'Base64URL', 'k')).toThrow(/not valid base64url/);
  });

  it('decodes binary values byte for byte', () => {
    const raw = new Uint8Array([0, 255, 128, 10]);
    expect([...decodeValue(bytes(Buffer.from(raw).toString('base64')), 'Base64', 'k')]).toEqual([...raw]);
  });
});

describe('convertKey (ESO conversionStrategy)', () => {
  it.each([
    ['Default', 'team/db', 'team_db'],
    ['Default', 'a b:c', 'a_b_c'],
    ['Unicode', 'team/db', 'team_U002f_db'],
    ['Default', 'ok-key_1.x', 'ok-key_1.x'],
  ] as const)('%s: %s → %s', (strategy, key, out) => {
    expect(convertKey(key, strategy)).toBe(out);
  });
});

describe('fetchSecretData with the strategies', () => {
  const fake = new FakeSecretsClient([
    { key: 'b64', value: Buffer.from('decoded-value').toString('base64') },
    { key: 'json', value: JSON.stringify({ cert: Buffer.from('PEM').toString('base64'), plain: 'x' }) },
    { key: 'team/a', value: 'A' },
    { key: 'team/b', value: 'B' },
  ]);

  it('decodes data values, extracted fields and found secrets', async () => {
    const { data } = await fetchSecretData(fake, {
      secretStoreRef: { name: 's' },
      data: [{ secretKey: 'v', remoteRef: { key: 'b64', decodingStrategy: 'Base64' } }],
      dataFrom: [{ extract: { key: 'json', decodingStrategy: 'Auto' } }],
    }, { signal }, false);
    expect(dec(data)).toEqual({ v: 'decoded-value', cert: 'PEM', plain: 'x' });
  });

  it('converts found keys when the entry has no rewrite, as ESO does', async () => {
    const find = { name: { regexp: '^team/' } };
    const { data } = await fetchSecretData(fake, { secretStoreRef: { name: 's' }, dataFrom: [{ find: { ...find, conversionStrategy: 'Default' } }] }, { signal }, false);
    expect(dec(data)).toEqual({ team_a: 'A', team_b: 'B' });
    const unicode = await fetchSecretData(fake, { secretStoreRef: { name: 's' }, dataFrom: [{ find: { ...find, conversionStrategy: 'Unicode' } }] }, { signal }, false);
    expect([...unicode.data.keys()]).toEqual(['team_U002f_a', 'team_U002f_b']);
    const rewritten = await fetchSecretData(fake, {
      secretStoreRef: { name: 's' },
      dataFrom: [{ find: { ...find, conversionStrategy: 'Default' }, rewrite: [{ regexp: { source: '^team/', target: 'x-' } }] }],
    }, { signal }, false);
    expect([...rewritten.data.keys()]).toEqual(['x-a', 'x-b']);
  });
});
