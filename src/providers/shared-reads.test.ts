import { FakeClock } from '../runtime/fake-clock.js';
import { FakeSecretsClient } from './fake/fake-provider.js';
import type { SecretsClient } from './provider.js';
import { UnavailableError } from './provider-errors.js';
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
