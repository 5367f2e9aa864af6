// The provider contract, as one table of cases that runs against every provider's real server.
// Each provider's test file builds a ContractFixture around its peer and calls runContractSuite.
import { randomBytes } from 'node:crypto';
import type { RequestBudget, SecretsClient } from '../../src/providers/provider.js';
import { AuthError, SecretNotFoundError, TransientProviderError } from '../../src/providers/provider-errors.js';
import { SharedReads } from '../../src/providers/shared-reads.js';
import { systemClock } from '../../src/runtime/clock.js';

export interface ContractFixture {
  /** A client of the real server with valid credentials. */
  client: SecretsClient;
  /** A client whose credentials the server rejects. */
  connectWithWrongCredentials(): Promise<SecretsClient>;
  /** A client with valid credentials whose store has a budget (its `rateLimit`). */
  connectWithBudget(budget: RequestBudget): Promise<SecretsClient>;
  /** Creates the secret, or adds a new version; returns the version id to use in remoteRef.version. */
  put(key: string, value: string, tags?: Record<string, string>): Promise<string>;
  /** Stops the server (outage) and starts it again on the same address. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** Whether the provider can select secrets by tags/labels in find. */
  supportsTags: boolean;
  /** How a provider names keys: some allow '/', some only letters, digits and dashes. */
  separator: '/' | '-';
}

const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const signal = () => AbortSignal.timeout(15_000);

export function runContractSuite(provider: string, setup: () => Promise<ContractFixture>, teardown: () => Promise<void>): void {
  describe(`${provider} provider contract`, () => {
    let f: ContractFixture;
    const run = randomBytes(3).toString('hex');
    const key = (name: string) => `lockstep${f.separator}${run}${f.separator}${name}`;

    beforeAll(async () => {
      f = await setup();
    });
    afterAll(teardown);

    it('reads the current value of a key', async () => {
      await f.put(key('plain'), 'plain-contract-value');
      expect(dec(await f.client.getSecret({ key: key('plain') }, { signal: signal() }))).toBe('plain-contract-value');
    });

    it('reads a property, nested with dots', async () => {
      await f.put(key('json'), JSON.stringify({ user: 'app', db: { password: 'nested-contract-pw' } }));
      expect(dec(await f.client.getSecret({ key: key('json'), property: 'user' }, { signal: signal() }))).toBe('app');
      expect(dec(await f.client.getSecret({ key: key('json'), property: 'db.password' }, { signal: signal() }))).toBe('nested-contract-pw');
    });

    it('reads a named version, and the newest by default', async () => {
      const v1 = await f.put(key('versioned'), 'version-one');
      await f.put(key('versioned'), 'version-two');
      expect(dec(await f.client.getSecret({ key: key('versioned') }, { signal: signal() }))).toBe('version-two');
      expect(dec(await f.client.getSecret({ key: key('versioned'), version: v1 }, { signal: signal() }))).toBe('version-one');
    });

    it("spends one token of the store's budget per API call", async () => {
      const keys = ['budget-a', 'budget-b', 'budget-c'].map(key);
      for (const k of keys) await f.put(k, `value-of-${k}`);
      let tokens = 0;
      const client = await f.connectWithBudget({ take: () => Promise.resolve(void tokens++) });
      await client.getSecret({ key: keys[0] as string }, { signal: signal() }); // logs in, looks up mounts: whatever a first call needs
      const before = tokens;
      expect(before).toBeGreaterThanOrEqual(1);
      for (const k of keys) expect(dec(await client.getSecret({ key: k }, { signal: signal() }))).toBe(`value-of-${k}`);
      expect(tokens - before).toBe(3);
    });

    it('reads two properties, the whole value and the map of one key with one API call behind the shared read layer', async () => {
      await f.put(key('shared'), JSON.stringify({ username: 'shared-user', password: 'shared-contract-pw' }));
      let tokens = 0;
      const client = await f.connectWithBudget({ take: () => Promise.resolve(void tokens++) });
      await client.getSecret({ key: key('shared') }, { signal: signal() }); // logs in, looks up mounts: whatever a first call needs
      const shared = new SharedReads(client, systemClock);
      const opts = () => ({ signal: signal(), maxAgeMs: 60_000 });
      const before = tokens;
      const both = await Promise.all([
        shared.getSecret({ key: key('shared'), property: 'username' }, opts()),
        shared.getSecret({ key: key('shared'), property: 'password' }, opts()),
      ]);
      const whole = await shared.getSecret({ key: key('shared') }, opts());
      const map = await shared.getSecretMap({ key: key('shared') }, opts());
      await expect(shared.getSecret({ key: key('shared'), property: 'missing' }, opts())).rejects.toThrow(`property 'missing' does not exist in remote key '${key('shared')}'`);
      expect(both.map(dec)).toEqual(['shared-user', 'shared-contract-pw']);
      expect(JSON.parse(dec(whole))).toEqual({ username: 'shared-user', password: 'shared-contract-pw' });
      expect(Object.fromEntries([...map].map(([k, v]) => [k, dec(v)]))).toEqual({ username: 'shared-user', password: 'shared-contract-pw' });
      expect(tokens - before).toBe(1);
    });

    it('extracts a JSON object into keys', async () => {
      await f.put(key('extract'), JSON.stringify({ a: '1', b: { c: 2 } }));
      const map = await f.client.getSecretMap({ key: key('extract') }, { signal: signal() });
      expect(Object.fromEntries([...map].map(([k, v]) => [k, dec(v)]))).toEqual({ a: '1', b: '{"c":2}' });
    });

    it('extracts the JSON object at a property into keys', async () => {
      await f.put(key('extract-property'), JSON.stringify({ top: 'x', db: { user: 'u', port: 5432 } }));
      const map = await f.client.getSecretMap({ key: key('extract-property'), property: 'db' }, { signal: signal() });
      expect(Object.fromEntries([...map].map(([k, v]) => [k, dec(v)]))).toEqual({ user: 'u', port: '5432' });
    });

    it('finds secrets by name regexp', async () => {
      await f.put(key('find-one'), 'found-1');
      await f.put(key('find-two'), 'found-2');
      const found = await f.client.findSecrets({ name: { regexp: `${run}.find-` } }, { signal: signal() });
      expect(Object.fromEntries([...found].map(([k, v]) => [k, dec(v)]))).toEqual({ [key('find-one')]: 'found-1', [key('find-two')]: 'found-2' });
    });

    it('finds secrets by tags where the provider has them', async () => {
      if (!f.supportsTags) return;
      await f.put(key('tagged'), 'tagged-value', { team: `t${run}` });
      await f.put(key('untagged'), 'untagged-value', { team: 'other' });
      const found = await f.client.findSecrets({ tags: { team: `t${run}` } }, { signal: signal() });
      expect([...found.keys()]).toEqual([key('tagged')]);
    });

    it('reports a missing key as NotFound', async () => {
      await expect(f.client.getSecret({ key: key('missing') }, { signal: signal() })).rejects.toBeInstanceOf(SecretNotFoundError);
    });

    it('reports wrong credentials as a permanent auth error', async () => {
      const bad = await f.connectWithWrongCredentials().catch((err: unknown) => err);
      const err = bad instanceof Error ? bad : await (bad as SecretsClient).getSecret({ key: key('plain') }, { signal: signal() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
    });

    it('reports an outage as transient, and works again when the server is back', async () => {
      await f.put(key('outage'), 'outage-value');
      await f.stopServer();
      try {
        const err = await f.client.getSecret({ key: key('outage') }, { signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransientProviderError);
      } finally {
        await f.startServer();
      }
      await f.put(key('outage'), 'outage-value');
      expect(dec(await f.client.getSecret({ key: key('outage') }, { signal: signal() }))).toBe('outage-value');
    });
  });
}
