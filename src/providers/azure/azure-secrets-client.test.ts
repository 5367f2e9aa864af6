import type { SecretClient } from '@azure/keyvault-secrets';
import { InvalidRefError, SecretNotFoundError } from '../provider-errors.js';
import { AzureSecretsClient, PROBE_NAME, shouldInclude } from './azure-secrets-client.js';

interface Stored {
  value: string;
  enabled?: boolean;
  tags?: Record<string, string>;
}

const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** A stand-in for the SDK's SecretClient with Key Vault's error shapes; records calls. */
function stubClient(store: Record<string, Stored>) {
  const calls: { op: string; name?: string; signal?: unknown }[] = [];
  const notFound = () => Object.assign(new Error('not found'), { name: 'RestError', statusCode: 404, code: 'SecretNotFound' });
  const client = {
    getSecret(name: string, options: { version?: string; abortSignal?: AbortSignal }) {
      calls.push({ op: 'get', name, signal: options.abortSignal });
      const entry = store[name];
      if (!entry) return Promise.reject(notFound());
      return Promise.resolve({ name, value: entry.value, properties: { name, enabled: entry.enabled ?? true } });
    },
    async *listPropertiesOfSecrets(options: { abortSignal?: AbortSignal }) {
      calls.push({ op: 'list', signal: options.abortSignal });
      for (const [name, entry] of Object.entries(store)) {
        await Promise.resolve();
        yield { name, enabled: entry.enabled ?? true, tags: entry.tags };
      }
    },
  };
  return { client: client as unknown as SecretClient, calls };
}

describe('shouldInclude', () => {
  const props = { name: 'team-a-db', enabled: true, tags: { env: 'prod', team: 'a' } };
  it('needs every tag, the name pattern and the path prefix, and skips disabled secrets', () => {
    expect(shouldInclude(props, { tags: { env: 'prod' } })).toBe(true);
    expect(shouldInclude(props, { tags: { env: 'prod', team: 'b' } })).toBe(false);
    expect(shouldInclude(props, {}, /^team-a-/)).toBe(true);
    expect(shouldInclude(props, {}, /^team-b-/)).toBe(false);
    expect(shouldInclude(props, { path: 'team-a' })).toBe(true);
    expect(shouldInclude(props, { path: 'team-b' })).toBe(false);
    expect(shouldInclude({ ...props, enabled: false }, {})).toBe(false);
    expect(shouldInclude({ name: 'x', enabled: true }, { tags: { env: 'prod' } })).toBe(false);
  });
});

describe('AzureSecretsClient', () => {
  const signal = AbortSignal.timeout(5000);

  it('passes the call signal to every SDK call', async () => {
    const { client, calls } = stubClient({ a: { value: '{"k":"v"}' } });
    const azure = new AzureSecretsClient(client);
    expect(dec(await azure.getSecret({ key: 'a', property: 'k' }, { signal }))).toBe('v');
    await azure.findSecrets({}, { signal });
    expect(calls.map((c) => c.signal === signal)).toEqual([true, true, true]);
  });

  it('rejects a name Key Vault cannot hold without calling it', async () => {
    const { client, calls } = stubClient({});
    await expect(new AzureSecretsClient(client).getSecret({ key: 'team/db' }, { signal })).rejects.toBeInstanceOf(InvalidRefError);
    expect(calls).toEqual([]);
  });

  it('finds in listing order, reading only matches, and skips secrets gone since the listing', async () => {
    const store: Record<string, Stored> = {
      'app-1': { value: 'one', tags: { env: 'prod' } },
      'app-2': { value: 'two', tags: { env: 'dev' } },
      'app-3': { value: 'three', tags: { env: 'prod' } },
      'app-4': { value: 'four', tags: { env: 'prod' }, enabled: false },
      'other-5': { value: 'five', tags: { env: 'prod' } },
    };
    const { client, calls } = stubClient(store);
    const original = client.getSecret.bind(client);
    client.getSecret = ((name: string, options: object) => (name === 'app-3' ? Promise.reject(Object.assign(new Error('gone'), { name: 'RestError', statusCode: 404 })) : original(name, options))) as typeof client.getSecret;
    const found = await new AzureSecretsClient(client).findSecrets({ name: { regexp: '^app-' }, tags: { env: 'prod' } }, { signal });
    expect([...found.keys()]).toEqual(['app-1']);
    expect(calls.filter((c) => c.op === 'get').map((c) => c.name)).toEqual(['app-1']);
  });

  it('reports an invalid find pattern as an invalid ref', async () => {
    const { client } = stubClient({});
    await expect(new AzureSecretsClient(client).findSecrets({ name: { regexp: '(' } }, { signal })).rejects.toBeInstanceOf(InvalidRefError);
  });

  it('validates by reading a probe secret and accepting NotFound', async () => {
    const { client, calls } = stubClient({});
    await expect(new AzureSecretsClient(client).validate({ signal })).resolves.toBeUndefined();
    expect(calls).toEqual([{ op: 'get', name: PROBE_NAME, signal }]);
  });

  it('maps SDK errors to provider errors', async () => {
    const { client } = stubClient({});
    await expect(new AzureSecretsClient(client).getSecret({ key: 'missing' }, { signal })).rejects.toBeInstanceOf(SecretNotFoundError);
  });
});
