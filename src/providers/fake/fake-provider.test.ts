import { fakeProvider, FakeSecretsClient } from './fake-provider.js';
import { InvalidRefError, SecretNotFoundError } from '../provider-errors.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const signal = new AbortController().signal;
const client = new FakeSecretsClient([
  { key: 'db', value: '{"user":"app","db":{"password":"p"},"port":5432,"a.b":"dotted"}', version: '1' },
  { key: 'db', value: '{"user":"app2"}', version: '2' },
  { key: 'team/x', value: 'x' },
  { key: 'team/y', value: 'y' },
]);

describe('fake provider', () => {
  it('reads the newest version by default and a named version on request', async () => {
    expect(dec(await client.getSecret({ key: 'db', property: 'user' }, { signal }))).toBe('app2');
    expect(dec(await client.getSecret({ key: 'db', property: 'user', version: '1' }, { signal }))).toBe('app');
  });

  it('reads nested and dotted properties; non-strings come back as JSON', async () => {
    const v1 = { key: 'db', version: '1' };
    expect(dec(await client.getSecret({ ...v1, property: 'db.password' }, { signal }))).toBe('p');
    expect(dec(await client.getSecret({ ...v1, property: 'a.b' }, { signal }))).toBe('dotted');
    expect(dec(await client.getSecret({ ...v1, property: 'port' }, { signal }))).toBe('5432');
  });

  it('classifies a missing key as NotFound and a missing property as an invalid reference', async () => {
    await expect(client.getSecret({ key: 'nope' }, { signal })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(client.getSecret({ key: 'db', version: '9' }, { signal })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(client.getSecret({ key: 'db', property: 'missing' }, { signal })).rejects.toBeInstanceOf(InvalidRefError);
    await expect(client.getSecret({ key: 'team/x', property: 'p' }, { signal })).rejects.toThrow("remote key 'team/x' is not a JSON object");
  });

  it('extracts a JSON object and finds keys by regexp and path', async () => {
    const map = await client.getSecretMap({ key: 'db', version: '1' }, { signal });
    expect(dec(map.get('db') as Uint8Array)).toBe('{"password":"p"}');
    expect([...(await client.findSecrets({ name: { regexp: '^team/' } }, { signal })).keys()]).toEqual(['team/x', 'team/y']);
    expect([...(await client.findSecrets({ path: 'db' }, { signal })).keys()]).toEqual(['db']);
  });

  it('reports duplicate entries as a config problem', () => {
    expect(fakeProvider.validateConfig({ data: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] })).toEqual([
      "key 'a' is listed twice with the same version",
    ]);
  });
});
