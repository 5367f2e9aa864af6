import { FakeClock } from '../runtime/fake-clock.js';
import { FakeSecretsClient } from './fake/fake-provider.js';
import type { ReadOperation, SecretsClient } from './provider.js';
import { InvalidRefError, SecretNotFoundError, UnavailableError } from './provider-errors.js';
import { SharedReads } from './shared-reads.js';

const signal = new AbortController().signal;

function counting(inner: SecretsClient) {
  const counts = { getSecret: 0 };
  const client: SecretsClient = {
    getSecret: (ref, opts) => {
      counts.getSecret++;
      return inner.getSecret(ref, opts);
    },
    getSecretMap: (ref, opts) => inner.getSecretMap(ref, opts),
    findSecrets: (query, opts) => inner.findSecrets(query, opts),
    validate: (opts) => inner.validate(opts),
    close: () => inner.close(),
  };
  return { client, counts };
}

describe('SharedReads', () => {
  const fake = new FakeSecretsClient([{ key: 'k', value: 'v' }, { key: 'j', value: 'w' }]);

  it('shares identical reads in flight', async () => {
    const { client, counts } = counting(fake);
    const shared = new SharedReads(client, new FakeClock());
    await Promise.all(Array.from({ length: 50 }, () => shared.getSecret({ key: 'k' }, { signal })));
    await shared.getSecret({ key: 'j' }, { signal });
    expect(counts.getSecret).toBe(2);
  });

  it('reuses a settled result only within the caller’s maxAgeMs', async () => {
    const clock = new FakeClock();
    const { client, counts } = counting(fake);
    const shared = new SharedReads(client, clock);
    await shared.getSecret({ key: 'k' }, { signal, maxAgeMs: 1000 });
    await clock.advance(500);
    await shared.getSecret({ key: 'k' }, { signal, maxAgeMs: 1000 });
    expect(counts.getSecret).toBe(1);
    await shared.getSecret({ key: 'k' }, { signal });
    expect(counts.getSecret).toBe(2);
    await clock.advance(1500);
    await shared.getSecret({ key: 'k' }, { signal, maxAgeMs: 1000 });
    expect(counts.getSecret).toBe(3);
  });

  it('drops the settled reads of a complete round, and keeps the ones asked after it or still in flight', async () => {
    const clock = new FakeClock();
    const { client, counts } = counting(fake);
    const shared = new SharedReads(client, clock);
    await shared.getSecret({ key: 'k' }, { signal, maxAgeMs: 60_000 });
    const roundEnd = clock.now();
    await clock.advance(100);
    await shared.getSecret({ key: 'j' }, { signal, maxAgeMs: 60_000 });
    shared.dropSettled(roundEnd);
    await shared.getSecret({ key: 'j' }, { signal, maxAgeMs: 60_000 });
    expect(counts.getSecret).toBe(2); // j was asked after the round: kept
    await shared.getSecret({ key: 'k' }, { signal, maxAgeMs: 60_000 });
    expect(counts.getSecret).toBe(3); // k was dropped: read afresh
  });

  it('tells the caller when each value it returns was read', async () => {
    const clock = new FakeClock(10_000);
    const shared = new SharedReads(counting(fake).client, clock);
    await shared.getSecret({ key: 'k' }, { signal });
    await clock.advance(700);
    const readTimes: number[] = [];
    await Promise.all([
      shared.getSecret({ key: 'k' }, { signal, maxAgeMs: 1000, readTimes }),
      shared.getSecret({ key: 'j' }, { signal, maxAgeMs: 1000, readTimes }),
    ]);
    expect(readTimes.sort()).toEqual([10_000, 10_700]);
  });

  it('never caches a failure', async () => {
    let fail = true;
    const flaky = counting(fake).client;
    const inner = flaky.getSecret;
    flaky.getSecret = (ref, opts) => (fail ? Promise.reject(new UnavailableError('down')) : inner(ref, opts));
    const shared = new SharedReads(flaky, new FakeClock());
    await expect(shared.getSecret({ key: 'k' }, { signal, maxAgeMs: 60_000 })).rejects.toThrow('down');
    fail = false;
    await expect(shared.getSecret({ key: 'k' }, { signal, maxAgeMs: 60_000 })).resolves.toBeDefined();
  });
});

/** A client that reads keys whole (as every provider does), counting its provider calls. */
function countingWhole(inner: FakeSecretsClient) {
  const calls: { key: string; property?: string; operation: ReadOperation }[] = [];
  const client: SecretsClient = {
    ...counting(inner).client,
    getSecret: () => Promise.reject(new Error('getSecret must go through readWhole')),
    getSecretMap: () => Promise.reject(new Error('getSecretMap must go through readWhole')),
    readWhole: (ref, opts, operation) => {
      calls.push({ key: ref.key, property: ref.property, operation });
      return inner.readWhole(ref, opts);
    },
  };
  return { client, calls };
}

describe('SharedReads over whole reads', () => {
  const fake = new FakeSecretsClient([
    { key: 'db', value: '{"username":"old","password":"old-pw"}', version: '1' },
    { key: 'db', value: '{"username":"app","password":"pw","nested":{"port":5432},"a.b":"dotted"}', version: '2' },
    { key: 'plain', value: 'not json' },
  ]);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  const decMap = (m: Map<string, Uint8Array>) => Object.fromEntries([...m].map(([k, v]) => [k, dec(v)]));
  const opts = { signal, maxAgeMs: 60_000 };

  it('serves every property, the whole value and the map of one key and version from one provider call', async () => {
    const { client, calls } = countingWhole(fake);
    const shared = new SharedReads(client, new FakeClock());
    const both = await Promise.all([
      shared.getSecret({ key: 'db', property: 'username' }, opts),
      shared.getSecret({ key: 'db', property: 'password' }, opts),
    ]);
    // Later reads of the key within maxAgeMs select from the same read.
    const later = [
      await shared.getSecret({ key: 'db', property: 'nested.port' }, opts),
      await shared.getSecret({ key: 'db', property: 'a.b' }, opts),
      await shared.getSecret({ key: 'db', property: 'nested' }, opts),
      await shared.getSecret({ key: 'db' }, opts),
    ];
    const map = await shared.getSecretMap({ key: 'db' }, opts);
    expect([...both, ...later].map(dec)).toEqual(['app', 'pw', '5432', 'dotted', '{"port":5432}', '{"username":"app","password":"pw","nested":{"port":5432},"a.b":"dotted"}']);
    expect(decMap(map)).toEqual({ username: 'app', password: 'pw', nested: '{"port":5432}', 'a.b': 'dotted' });
    expect(calls).toEqual([{ key: 'db', property: undefined, operation: 'getSecret' }]);
  });

  it('reads each version, and metadata, apart; a map first labels the call getSecretMap', async () => {
    const { client, calls } = countingWhole(fake);
    const shared = new SharedReads(client, new FakeClock());
    await shared.getSecretMap({ key: 'db', version: '1' }, opts);
    expect(dec(await shared.getSecret({ key: 'db', version: '1', property: 'username' }, opts))).toBe('old');
    expect(dec(await shared.getSecret({ key: 'db', property: 'username' }, opts))).toBe('app');
    await shared.getSecret({ key: 'db', property: 'username', metadataPolicy: 'Fetch' }, opts).catch(() => undefined);
    expect(calls).toEqual([
      { key: 'db', property: undefined, operation: 'getSecretMap' },
      { key: 'db', property: undefined, operation: 'getSecret' },
      { key: 'db', property: undefined, operation: 'getSecret' },
    ]);
  });

  it('fails only the caller of a missing property, with the same message, and keeps the read for the others', async () => {
    const { client, calls } = countingWhole(fake);
    const shared = new SharedReads(client, new FakeClock());
    const [missing, username] = await Promise.allSettled([
      shared.getSecret({ key: 'db', property: 'missing' }, opts),
      shared.getSecret({ key: 'db', property: 'username' }, opts),
    ]);
    const direct = await fake.getSecret({ key: 'db', property: 'missing' }).catch((e: unknown) => e);
    expect(missing.status === 'rejected' && missing.reason).toEqual(direct);
    expect(direct).toEqual(new InvalidRefError("property 'missing' does not exist in remote key 'db'"));
    expect(username.status === 'fulfilled' && dec(username.value)).toBe('app');
    expect(dec(await shared.getSecret({ key: 'db', property: 'password' }, opts))).toBe('pw');
    await expect(shared.getSecret({ key: 'plain', property: 'x' }, opts)).rejects.toThrow(new InvalidRefError("remote key 'plain' is not a JSON object, so it has no properties"));
    expect(dec(await shared.getSecret({ key: 'plain' }, opts))).toBe('not json');
    await expect(shared.getSecretMap({ key: 'plain' }, opts)).rejects.toBeInstanceOf(InvalidRefError);
    expect(calls.map((c) => c.key)).toEqual(['db', 'plain']);
  });

  it('never caches a failed whole read, and tells when each value was read', async () => {
    const clock = new FakeClock(5_000);
    const { client, calls } = countingWhole(fake);
    const shared = new SharedReads(client, clock);
    await expect(shared.getSecret({ key: 'gone', property: 'a' }, opts)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(shared.getSecret({ key: 'gone', property: 'b' }, opts)).rejects.toBeInstanceOf(SecretNotFoundError);
    await shared.getSecret({ key: 'db', property: 'username' }, opts);
    await clock.advance(300);
    const readTimes: number[] = [];
    await shared.getSecret({ key: 'db', property: 'password' }, { ...opts, readTimes });
    expect(readTimes).toEqual([5_000]);
    expect(calls.map((c) => c.key)).toEqual(['gone', 'gone', 'db']);
  });
});
