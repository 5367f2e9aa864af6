import { FakeSecretsClient } from '../../providers/fake/fake-provider.js';
import type { SecretsClient } from '../../providers/provider.js';
import { SecretNotFoundError } from '../../providers/provider-errors.js';
import { SharedReads } from '../../providers/shared-reads.js';
import { FakeClock } from '../../runtime/fake-clock.js';
import { fetchSecretData } from './data-fetcher.js';

const dec = (m: Map<string, Uint8Array>) => Object.fromEntries([...m].map(([k, v]) => [k, new TextDecoder().decode(v)]));
const signal = new AbortController().signal;
const fake = new FakeSecretsClient([
  { key: 'db', value: '{"user":"app","password":"p"}' },
  { key: 'team/a', value: 'A' },
]);

describe('fetchSecretData', () => {
  it('applies dataFrom in order, then data, which wins on a clash', async () => {
    const { data } = await fetchSecretData(fake, {
      secretStoreRef: { name: 's' },
      dataFrom: [{ extract: { key: 'db' } }, { find: { name: { regexp: '^team/' } }, rewrite: [{ regexp: { source: '^team/', target: 't-' } }] }],
      data: [{ secretKey: 'user', remoteRef: { key: 'team/a' } }],
    }, { signal }, false);
    expect(dec(data)).toEqual({ user: 'A', password: 'p', 't-a': 'A' });
  });

  it('reads a remote ref once even when several keys use it', async () => {
    let calls = 0;
    const counting: SecretsClient = {
      getSecret: (ref, o) => { calls++; return fake.getSecret(ref, o); },
      getSecretMap: (ref, o) => fake.getSecretMap(ref, o),
      findSecrets: (q, o) => fake.findSecrets(q, o),
      validate: () => fake.validate(),
      close: () => fake.close(),
    };
    await fetchSecretData(counting, {
      secretStoreRef: { name: 's' },
      data: [{ secretKey: 'a', remoteRef: { key: 'db', property: 'user' } }, { secretKey: 'b', remoteRef: { key: 'db', property: 'user' } }],
    }, { signal }, false);
    expect(calls).toBe(1);
  });

  it('behind the shared read layer, reads a key once for all its properties and its whole value', async () => {
    const keys: string[] = [];
    const counting: SecretsClient = {
      getSecret: (ref, o) => fake.getSecret(ref, o),
      getSecretMap: (ref, o) => fake.getSecretMap(ref, o),
      readWhole: (ref, o) => { keys.push(ref.key); return fake.readWhole(ref, o); },
      findSecrets: (q, o) => fake.findSecrets(q, o),
      validate: () => fake.validate(),
      close: () => fake.close(),
    };
    const { data } = await fetchSecretData(new SharedReads(counting, new FakeClock()), {
      secretStoreRef: { name: 's' },
      dataFrom: [{ extract: { key: 'db' } }],
      data: [
        { secretKey: 'username', remoteRef: { key: 'db', property: 'user' } },
        { secretKey: 'password', remoteRef: { key: 'db', property: 'password' } },
        { secretKey: 'all', remoteRef: { key: 'db' } },
        { secretKey: 'a', remoteRef: { key: 'team/a' } },
      ],
    }, { signal, maxAgeMs: 60_000 }, false);
    expect(dec(data)).toEqual({ user: 'app', password: 'p', username: 'app', all: '{"user":"app","password":"p"}', a: 'A' });
    expect(keys.sort()).toEqual(['db', 'team/a']);
  });

  it('throws NotFound under Retain, and collects missing keys otherwise', async () => {
    const spec = { secretStoreRef: { name: 's' }, data: [{ secretKey: 'a', remoteRef: { key: 'gone' } }, { secretKey: 'b', remoteRef: { key: 'team/a' } }] };
    await expect(fetchSecretData(fake, spec, { signal }, false)).rejects.toBeInstanceOf(SecretNotFoundError);
    const { data, missing } = await fetchSecretData(fake, spec, { signal }, true);
    expect(missing).toEqual(['gone']);
    expect(dec(data)).toEqual({ b: 'A' });
  });

  it('a find that matches nothing is a missing key: NotFound under Retain, collected otherwise; never an empty result', async () => {
    const spec = { secretStoreRef: { name: 's' }, dataFrom: [{ find: { name: { regexp: '^nothing/' } } }] };
    await expect(fetchSecretData(fake, spec, { signal }, false)).rejects.toThrow(SecretNotFoundError);
    await expect(fetchSecretData(fake, spec, { signal }, false)).rejects.toThrow("find (name matching '^nothing/') matched no remote secret");
    const collected = await fetchSecretData(fake, spec, { signal }, true);
    expect(collected.data.size).toBe(0);
    expect(collected.missing).toEqual(['(find)']);
  });
});

