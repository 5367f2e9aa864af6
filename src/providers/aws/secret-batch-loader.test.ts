import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidRefError, SecretNotFoundError, ThrottledError, UnavailableError } from '../provider-errors.js';
import { AttemptLog, spendBudgetPerCall } from './aws-sdk-options.js';
import { SecretBatchLoader } from './secret-batch-loader.js';

type Handler = (command: string, input: Record<string, unknown>) => unknown;

/** A real SDK client whose requests never leave the process: a middleware answers every command. */
function stubClient(handler: Handler): { sm: SecretsManagerClient; calls: { command: string; input: Record<string, unknown> }[] } {
  const calls: { command: string; input: Record<string, unknown> }[] = [];
  const sm = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  sm.middlewareStack.add(
    (_next, context) => async (args) => {
      const command = (context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      calls.push({ command, input });
      await new Promise((r) => setTimeout(r, 1));
      return { output: { $metadata: {}, ...(handler(command, input) as object) }, response: {} };
    },
    { step: 'initialize', name: 'stub' },
  );
  return { sm, calls };
}

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const signal = () => AbortSignal.timeout(5_000);
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

/** Answers BatchGetSecretValue with `value-of-<id>` for every id except those named missing*. */
const batchHandler: Handler = (command, input) => {
  if (command === 'BatchGetSecretValue') {
    const ids = input.SecretIdList as string[];
    return {
      SecretValues: ids.filter((id) => !id.startsWith('missing')).map((id) => ({ Name: id, ARN: arn(id), SecretString: `value-of-${id}` })),
      Errors: ids.filter((id) => id.startsWith('missing')).map((id) => ({ SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: 'gone' })),
    };
  }
  if (command === 'GetSecretValue') return { Name: input.SecretId, ARN: arn(String(input.SecretId)), SecretString: `single-${String(input.SecretId)}` };
  throw new Error(`unexpected ${command}`);
};

describe('SecretBatchLoader', () => {
  it.each([1, 19, 20, 21, 45, 100])('sends %i concurrent reads as ceil(N/20) BatchGetSecretValue calls', async (n) => {
    const { sm, calls } = stubClient(batchHandler);
    const loader = new SecretBatchLoader(sm);
    const ids = Array.from({ length: n }, (_, i) => `key-${i}`);
    const values = await Promise.all(ids.map((id) => loader.load(id, signal())));
    expect(values.map((v) => dec(v.value))).toEqual(ids.map((id) => `value-of-${id}`));
    expect(calls.map((c) => c.command)).toEqual(Array.from({ length: Math.ceil(n / 20) }, () => 'BatchGetSecretValue'));
    expect(calls.every((c) => (c.input.SecretIdList as string[]).length <= 20)).toBe(true);
  });

  it('coalesces identical reads in flight, and reads afresh once they settled', async () => {
    const { sm, calls } = stubClient(batchHandler);
    const loader = new SecretBatchLoader(sm);
    const first = loader.load('a', signal());
    await new Promise((r) => setImmediate(r)); // the batch is on the wire now
    const joined = loader.load('a', signal());
    await Promise.all([first, joined, loader.load('a', signal())]);
    expect(calls).toHaveLength(1);
    await loader.load('a', signal());
    expect(calls).toHaveLength(2);
  });

  it('fails only the ids a batch reports as errors', async () => {
    const { sm } = stubClient(batchHandler);
    const loader = new SecretBatchLoader(sm);
    const [ok, missing] = await Promise.allSettled([loader.load('present', signal()), loader.load('missing-1', signal())]);
    expect(ok.status === 'fulfilled' && dec(ok.value.value)).toBe('value-of-present');
    expect(missing.status === 'rejected' && missing.reason).toBeInstanceOf(SecretNotFoundError);
  });

  it('matches entries by ARN, and reads an id the batch does not name (a partial ARN) alone', async () => {
    const partial = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:partial';
    const { sm, calls } = stubClient((command, input) => {
      if (command === 'BatchGetSecretValue') return { SecretValues: [{ Name: 'by-arn', ARN: arn('by-arn'), SecretString: 'x' }], Errors: [] };
      return batchHandler(command, input);
    });
    const loader = new SecretBatchLoader(sm);
    const [byArn, byPartial] = await Promise.all([loader.load(arn('by-arn'), signal()), loader.load(partial, signal())]);
    expect(byArn.name).toBe('by-arn');
    expect(dec(byPartial.value)).toBe(`single-${partial}`);
    expect(calls.map((c) => c.command)).toEqual(['BatchGetSecretValue', 'GetSecretValue']);
  });

  it('returns binary values as they are', async () => {
    const bytes = new Uint8Array([0, 255, 1]);
    const { sm } = stubClient(() => ({ SecretValues: [{ Name: 'bin', ARN: arn('bin'), SecretBinary: bytes }] }));
    expect((await new SecretBatchLoader(sm).load('bin', signal())).value).toEqual(bytes);
  });

  it('fails every read of a batch the service throttles', async () => {
    const { sm } = stubClient(() => {
      throw Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    });
    const loader = new SecretBatchLoader(sm);
    const results = await Promise.allSettled([loader.load('a', signal()), loader.load('b', signal())]);
    expect(results.map((r) => r.status === 'rejected' && r.reason instanceof ThrottledError)).toEqual([true, true]);
  });

  it('reads each id alone when one malformed id fails the whole batch', async () => {
    const { sm, calls } = stubClient((command, input) => {
      if (command === 'BatchGetSecretValue') throw Object.assign(new Error('bad id'), { name: 'InvalidParameterException' });
      if (input.SecretId === 'bad id!') throw Object.assign(new Error('bad id'), { name: 'InvalidParameterException' });
      return batchHandler(command, input);
    });
    const loader = new SecretBatchLoader(sm);
    const [good, bad] = await Promise.allSettled([loader.load('good', signal()), loader.load('bad id!', signal())]);
    expect(good.status === 'fulfilled' && dec(good.value.value)).toBe('single-good');
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(InvalidRefError);
    expect(calls.map((c) => c.command).sort()).toEqual(['BatchGetSecretValue', 'GetSecretValue', 'GetSecretValue']);
  });

  it("gives up at the caller's deadline while the shared batch serves the others", async () => {
    const { sm } = stubClient(batchHandler);
    const loader = new SecretBatchLoader(sm);
    const aborted = new AbortController();
    const late = loader.load('a', aborted.signal);
    const other = loader.load('b', signal());
    aborted.abort();
    await expect(late).rejects.toBeInstanceOf(UnavailableError);
    expect(dec((await other).value)).toBe('value-of-b');
  });

  it('reads a version with GetSecretValue, not in a batch', async () => {
    const { sm, calls } = stubClient(batchHandler);
    await new SecretBatchLoader(sm).loadVersion('v', { VersionStage: 'AWSPREVIOUS' }, signal());
    expect(calls).toEqual([{ command: 'GetSecretValue', input: { SecretId: 'v', VersionStage: 'AWSPREVIOUS' } }]);
  });
});

describe('SecretBatchLoader with a deadline already passed', () => {
  it('sends nothing', async () => {
    const { sm, calls } = stubClient(batchHandler);
    await expect(new SecretBatchLoader(sm).load('a', AbortSignal.abort())).rejects.toBeInstanceOf(UnavailableError);
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toHaveLength(0);
  });
});

describe('SecretBatchLoader when the deadline passes while the SDK retries', () => {
  it("says what AWS answered to the failed attempt, and nothing of the answer's body", async () => {
    // A loopback HTTP server: the first request gets a 500 InternalServiceError at once, the retry hangs.
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      if (requests > 1) return; // never answered: the caller's deadline passes first
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InternalServiceError' });
      res.end(JSON.stringify({ __type: 'InternalServiceError', message: 'body-text-not-for-conditions' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      const sm = new SecretsManagerClient({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
        maxAttempts: 2,
      });
      const attempts = new AttemptLog();
      spendBudgetPerCall(sm, undefined, attempts);
      const err = await new SecretBatchLoader(sm, { attempts }).load('db', AbortSignal.timeout(1_500)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toBe(
        "remote key 'db': deadline exceeded (AWS's last answer meanwhile: InternalServiceError, HTTP 500; the SDK was retrying)",
      );
      expect(requests).toBe(2);
      sm.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
