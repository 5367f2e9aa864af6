// The aws provider against moto server (real Secrets Manager and STS APIs, IAM enforcement on) and
// the real local kube-apiserver (credentials Secrets, ServiceAccount tokens from TokenRequest).
import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { AwsProviderSpec } from '../../src/api/providers/aws.js';
import { buildCredentialSource } from '../../src/controllers/credential-source.js';
import { createKubeClient, type KubeClientHandle } from '../../src/kube/kube-client.js';
import { buildLogger } from '../../src/observability/logger.js';
import { SecretScrubber } from '../../src/observability/secret-scrubber.js';
import { createAwsProvider } from '../../src/providers/aws/aws-provider.js';
import type { CredentialSource, RequestBudget, SecretsClient, StoreContext } from '../../src/providers/provider.js';
import { AuthError, InvalidConfigError, InvalidRefError, SecretNotFoundError } from '../../src/providers/provider-errors.js';
import { systemClock } from '../../src/runtime/clock.js';
import { TokenBucket } from '../../src/runtime/token-bucket.js';
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { type AwsPeer, startAwsPeer } from '../peers/aws/aws-peer.js';
import { allowUnsignedRequests, enforceIam, type MotoPrincipals, REGION } from '../peers/aws/moto-iam.js';
import { runContractSuite } from './contract-suite.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const signal = () => AbortSignal.timeout(15_000);
const run = randomBytes(3).toString('hex');
const SA = 'lockstep-aws';

interface Recorded {
  command: string;
  input: Record<string, unknown>;
}

let peer: AwsPeer;
let principals: MotoPrincipals;
let cluster: TestCluster;
let kube: KubeClientHandle;
let namespace: string;
let admin: SecretsManagerClient;
const scrubber = new SecretScrubber();
const log = buildLogger({ level: 'silent', scrubber });
/** Every Secrets Manager command the provider's clients sent. */
const sent: Recorded[] = [];
const tokens: string[] = [];
const clients: SecretsClient[] = [];

const provider = createAwsProvider({
  onClient: (sm) =>
    sm.middlewareStack.add(
      (next, context) => (args) => {
        sent.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> });
        return next(args);
      },
      { step: 'initialize', name: 'lockstepE2eRecorder' },
    ),
});

async function createCredentialsSecret(name: string, accessKeyId: string, secretAccessKey: string): Promise<void> {
  await cluster.kubectl(['-n', namespace, 'create', 'secret', 'generic', name, `--from-literal=access-key-id=${accessKeyId}`, `--from-literal=secret-access-key=${secretAccessKey}`]);
}

function recordingCredentials(source: CredentialSource): CredentialSource {
  return {
    readSecretKey: (ref) => source.readSecretKey(ref),
    requestServiceAccountToken: async (ref) => {
      const issued = await source.requestServiceAccountToken(ref);
      tokens.push(issued.token);
      return issued;
    },
  };
}

function storeContext(storeName: string, budget?: RequestBudget): StoreContext {
  const store = { kind: 'SecretStore' as const, name: storeName, namespace, uid: `uid-${storeName}`, generation: 1 };
  return {
    namespace,
    storeKind: 'SecretStore',
    storeName,
    log,
    scrubber,
    credentials: recordingCredentials(buildCredentialSource(kube.client, scrubber, store)),
    budget,
  };
}

function secretRefSpec(secret: string, role?: string, chain: Partial<AwsProviderSpec> = {}): AwsProviderSpec {
  return AwsProviderSpec.parse({
    region: REGION,
    endpoint: peer.endpoint,
    role,
    ...chain,
    auth: {
      secretRef: {
        accessKeyIDSecretRef: { name: secret, key: 'access-key-id' },
        secretAccessKeySecretRef: { name: secret, key: 'secret-access-key' },
      },
    },
  });
}

function jwtSpec(role: string): AwsProviderSpec {
  return AwsProviderSpec.parse({ region: REGION, endpoint: peer.endpoint, role, auth: { jwt: { serviceAccountRef: { name: SA } } } });
}

async function connect(spec: AwsProviderSpec, storeName = 'aws', budget?: RequestBudget): Promise<SecretsClient> {
  expect(provider.validateConfig(spec)).toEqual([]);
  const client = await provider.connect(spec, storeContext(storeName, budget));
  clients.push(client);
  return client;
}

async function put(key: string, value: string | Uint8Array, tags?: Record<string, string>): Promise<string> {
  const body = typeof value === 'string' ? { SecretString: value } : { SecretBinary: value };
  const Tags = tags ? Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) : undefined;
  try {
    const out = await admin.send(new CreateSecretCommand({ Name: key, Tags, ...body }));
    return out.VersionId ?? '';
  } catch (err) {
    if (!(err instanceof ResourceExistsException)) throw err;
  }
  if (Tags) await admin.send(new TagResourceCommand({ SecretId: key, Tags }));
  const out = await admin.send(new PutSecretValueCommand({ SecretId: key, ...body }));
  return out.VersionId ?? '';
}

async function startPeer(): Promise<void> {
  principals = await enforceIam(peer);
  admin?.destroy();
  admin = new SecretsManagerClient({ region: REGION, endpoint: peer.endpoint, credentials: principals.admin, maxAttempts: 1 });
}

beforeAll(async () => {
  cluster = loadTestCluster();
  kube = createKubeClient({ kubeconfigPath: cluster.kubeconfigPath, fieldManager: 'lockstep', userAgent: 'lockstep-e2e', reportingInstance: 'e2e' });
  const started = Date.now();
  peer = await startAwsPeer();
  await startPeer();
  console.log(`moto server ${peer.endpoint} ready with IAM enforced in ${Date.now() - started} ms (log: ${peer.logFile})`);
  namespace = await cluster.createNamespace('aws');
  await createCredentialsSecret('aws-reader', principals.reader.accessKeyId, principals.reader.secretAccessKey);
  await createCredentialsSecret('aws-admin', principals.admin.accessKeyId, principals.admin.secretAccessKey);
  await createCredentialsSecret('aws-wrong-secret', principals.reader.accessKeyId, 'wrong-secret-access-key-0000000000000000');
  await createCredentialsSecret('aws-unknown-key', 'AKIAUNKNOWNUNKNOWN00', 'unknown-secret-access-key-000000000000000');
  await cluster.kubectl(['-n', namespace, 'create', 'serviceaccount', SA]);
}, 600_000); // a cold first run installs moto from PyPI (about a minute)

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  admin?.destroy();
  await peer?.stop();
  if (namespace) await cluster.deleteNamespace(namespace);
  await kube?.close();
});

runContractSuite(
  'aws',
  async () => ({
    client: await connect(secretRefSpec('aws-reader')),
    connectWithWrongCredentials: () => connect(secretRefSpec('aws-wrong-secret'), 'aws-wrong'),
    connectWithBudget: (budget) => connect(secretRefSpec('aws-reader'), 'aws-budgeted', budget),
    put: (key, value, tags) => put(key, value, tags),
    stopServer: () => peer.stop(),
    startServer: async () => {
      await peer.start();
      await startPeer();
    },
    supportsTags: true,
    separator: '/',
  }),
  () => Promise.resolve(),
);

describe('aws provider against moto', () => {
  let client: SecretsClient;
  const key = (name: string) => `lockstep/${run}/aws/${name}`;
  const commands = (name: string) => sent.filter((r) => r.command === name);

  beforeAll(async () => {
    client = await connect(secretRefSpec('aws-reader'), 'aws-specific');
  });

  it('coalesces concurrent reads into ceil(N/20) BatchGetSecretValue calls', async () => {
    const names = Array.from({ length: 45 }, (_, i) => key(`batch-${i}`));
    for (const name of names) await put(name, `value-of-${name}`);
    sent.length = 0;
    // 45 distinct keys plus 5 repeated ones, all in the same tick.
    const refs = [...names, ...names.slice(0, 5)];
    const values = await Promise.all(refs.map((k) => client.getSecret({ key: k }, { signal: signal() })));
    expect(values.map(dec)).toEqual(refs.map((k) => `value-of-${k}`));
    const batches = commands('BatchGetSecretValueCommand');
    expect(batches).toHaveLength(Math.ceil(names.length / 20));
    expect(batches.map((b) => (b.input.SecretIdList as string[]).length).sort()).toEqual([20, 20, 5]);
    expect(commands('GetSecretValueCommand')).toHaveLength(0);
  });

  it('spends the store budget once per API call, so a tight rateLimit keeps full batches', async () => {
    const names = Array.from({ length: 45 }, (_, i) => key(`budget-${i}`));
    for (const name of names) await put(name, `value-of-${name}`);
    const bucket = new TokenBucket({ qps: 2, burst: 1 }, systemClock);
    let tokens = 0;
    const budgeted = await connect(secretRefSpec('aws-reader'), 'aws-budget', { take: (s) => (tokens++, bucket.take(s)) });
    sent.length = 0;
    const values = await Promise.all(names.map((k) => budgeted.getSecret({ key: k }, { signal: signal() })));
    expect(values.map(dec)).toEqual(names.map((k) => `value-of-${k}`));
    expect(commands('BatchGetSecretValueCommand').map((b) => (b.input.SecretIdList as string[]).length).sort()).toEqual([20, 20, 5]);
    expect(tokens).toBe(3);
  });

  it('fails only the missing key of a batch', async () => {
    await put(key('present'), 'present-value');
    sent.length = 0;
    const [present, missing] = await Promise.allSettled([
      client.getSecret({ key: key('present') }, { signal: signal() }),
      client.getSecret({ key: key('absent') }, { signal: signal() }),
    ]);
    expect(present.status === 'fulfilled' && dec(present.value)).toBe('present-value');
    expect(missing.status === 'rejected' && missing.reason).toBeInstanceOf(SecretNotFoundError);
    expect(commands('BatchGetSecretValueCommand')).toHaveLength(1);
  });

  it('reads versions by staging label and by id', async () => {
    const v1 = await put(key('staged'), 'first');
    await put(key('staged'), 'second');
    const read = (version?: string) => client.getSecret({ key: key('staged'), version }, { signal: signal() }).then(dec);
    expect(await read('AWSCURRENT')).toBe('second');
    expect(await read('stage:AWSCURRENT')).toBe('second');
    expect(await read('AWSPREVIOUS')).toBe('first');
    expect(await read('stage:AWSPREVIOUS')).toBe('first');
    expect(await read(v1)).toBe('first');
    expect(await read(`uuid/${v1}`)).toBe('first');
    await expect(read('stage:NO-SUCH-STAGE')).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('returns binary secrets as the exact bytes', async () => {
    const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
    await put(key('binary'), bytes);
    expect(Buffer.from(await client.getSecret({ key: key('binary') }, { signal: signal() }))).toEqual(Buffer.from(bytes));
  });

  it('reads a secret by ARN, in a batch with names', async () => {
    const { ARN } = await admin.send(new CreateSecretCommand({ Name: key('by-arn'), SecretString: 'arn-value-2' }));
    expect(ARN).toMatch(/^arn:aws:secretsmanager:/);
    sent.length = 0;
    const [byArn, byName] = await Promise.all([
      client.getSecret({ key: ARN ?? '' }, { signal: signal() }),
      client.getSecret({ key: key('present') }, { signal: signal() }),
    ]);
    expect([dec(byArn), dec(byName)]).toEqual(['arn-value-2', 'present-value']);
    expect(commands('BatchGetSecretValueCommand')).toHaveLength(1);
  });

  it('finds by path and by every tag, with the server filtering on a literal name prefix', async () => {
    await put(key('find/a'), 'a', { env: 'prod', team: `t${run}` });
    await put(key('find/b'), 'b', { env: 'dev', team: `t${run}` });
    await put(key('find/c'), 'c', { env: 'prod' });
    const byTags = await client.findSecrets({ tags: { team: `t${run}`, env: 'prod' } }, { signal: signal() });
    expect([...byTags.keys()]).toEqual([key('find/a')]);
    sent.length = 0;
    const byName = await client.findSecrets({ name: { regexp: `^${key('find/')}[ab]$` } }, { signal: signal() });
    expect(Object.fromEntries([...byName].map(([k, v]) => [k, dec(v)]))).toEqual({ [key('find/a')]: 'a', [key('find/b')]: 'b' });
    expect(commands('ListSecretsCommand')[0]?.input.Filters).toEqual([{ Key: 'name', Values: [key('find/')] }]);
    const byPath = await client.findSecrets({ path: key('find/') }, { signal: signal() });
    expect([...byPath.keys()].sort()).toEqual([key('find/a'), key('find/b'), key('find/c')]);
  });

  it('reports a malformed property path and a non-JSON value as invalid refs', async () => {
    await put(key('not-json'), 'plain text');
    await expect(client.getSecret({ key: key('not-json'), property: 'x' }, { signal: signal() })).rejects.toBeInstanceOf(InvalidRefError);
  });

  it('validates good credentials and rejects an unknown access key', async () => {
    await expect(client.validate({ signal: signal() })).resolves.toBeUndefined();
    const unknown = await connect(secretRefSpec('aws-unknown-key'), 'aws-unknown');
    await expect(unknown.validate({ signal: signal() })).rejects.toBeInstanceOf(AuthError);
    await expect(unknown.getSecret({ key: key('present') }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });

  it('assumes a role with static keys and reads with the role session', async () => {
    const withRole = await connect(secretRefSpec('aws-admin', principals.readerRoleArn), 'aws-role');
    expect(dec(await withRole.getSecret({ key: key('present') }, { signal: signal() }))).toBe('present-value');
    // The admin keys alone could read anything; a role without permissions proves the session is used.
    const emptyRole = await connect(secretRefSpec('aws-admin', principals.emptyRoleArn), 'aws-empty-role');
    await expect(emptyRole.getSecret({ key: key('present') }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });
});

describe('aws provider: metadataPolicy Fetch reads the tags', () => {
  const key = (name: string) => `lockstep/${run}/meta/${name}`;

  it('reads the tags as JSON, one tag with property, every tag with extract; never the value', async () => {
    await put(key('tagged'), 'the-value-not-the-tags', { team: 'a', 'app.kubernetes.io/name': 'shop', owner: 'payments' });
    await put(key('untagged'), 'x');
    const client = await connect(secretRefSpec('aws-reader'), 'aws-meta');
    const fetch = (extra: object = {}) => ({ key: key('tagged'), metadataPolicy: 'Fetch' as const, ...extra });
    expect(JSON.parse(dec(await client.getSecret(fetch(), { signal: signal() })))).toEqual({ team: 'a', 'app.kubernetes.io/name': 'shop', owner: 'payments' });
    expect(dec(await client.getSecret(fetch({ property: 'app.kubernetes.io/name' }), { signal: signal() }))).toBe('shop');
    const map = await client.getSecretMap(fetch(), { signal: signal() });
    expect(Object.fromEntries([...map].map(([k, v]) => [k, dec(v)]))).toEqual({ team: 'a', 'app.kubernetes.io/name': 'shop', owner: 'payments' });
    expect(dec(await client.getSecret({ key: key('tagged') }, { signal: signal() }))).toBe('the-value-not-the-tags');
    expect(dec(await client.getSecret({ key: key('untagged'), metadataPolicy: 'Fetch' }, { signal: signal() }))).toBe('{}');
    const missingTag = await client.getSecret(fetch({ property: 'cost-center' }), { signal: signal() }).catch((e: unknown) => e);
    expect(missingTag).toBeInstanceOf(InvalidRefError);
    expect((missingTag as Error).message).toBe(`metadata 'cost-center' does not exist on remote key '${key('tagged')}' (its metadata keys are 'app.kubernetes.io/name', 'owner', 'team')`);
    await expect(client.getSecret({ key: key('absent'), metadataPolicy: 'Fetch' }, { signal: signal() })).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('reads tags with the session of the assumed role, whose policy must allow secretsmanager:DescribeSecret', async () => {
    const emptyRole = await connect(secretRefSpec('aws-admin', principals.emptyRoleArn), 'aws-meta-empty');
    await expect(emptyRole.getSecret({ key: key('tagged'), metadataPolicy: 'Fetch' }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });
});

describe('aws provider: role chaining as ESO spells it (additionalRoles, then role)', () => {
  const key = (name: string) => `lockstep/${run}/chain/${name}`;

  beforeAll(async () => {
    await put(key('db'), 'chained-read-value');
  });

  it('assumes each role with the session of the one before; the last role is the one that may read', async () => {
    // The reader keys may not call sts:AssumeRole, so the admin keys start the chain. The hop role
    // may only assume roles: the read works only if its session really assumed the reader role.
    const chained = await connect(secretRefSpec('aws-admin', principals.readerRoleArn, { additionalRoles: [principals.hopRoleArn], externalID: 'lockstep-e2e', sessionTags: [{ key: 'team', value: 'a' }], transitiveTagKeys: ['team'] }), 'aws-chain');
    await expect(chained.validate({ signal: signal() })).resolves.toBeUndefined();
    expect(dec(await chained.getSecret({ key: key('db') }, { signal: signal() }))).toBe('chained-read-value');
    // The hop alone reads nothing: what allowed the read above was the final role's policy.
    const hopOnly = await connect(secretRefSpec('aws-admin', undefined, { additionalRoles: [principals.hopRoleArn] }), 'aws-chain-hop');
    const denied = await hopOnly.getSecret({ key: key('db') }, { signal: signal() }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AuthError);
  });

  it('chains several additionalRoles in order', async () => {
    const spec = secretRefSpec('aws-admin', undefined, { additionalRoles: [principals.hopRoleArn, principals.hopRoleArn, principals.readerRoleArn] });
    const chained = await connect(spec, 'aws-chain-3');
    expect(dec(await chained.getSecret({ key: key('db') }, { signal: signal() }))).toBe('chained-read-value');
    // Same roles, other order: the reader role's session may not assume the hop role.
    const reversed = await connect(secretRefSpec('aws-admin', undefined, { additionalRoles: [principals.readerRoleArn, principals.hopRoleArn] }), 'aws-chain-reversed');
    const err = await reversed.getSecret({ key: key('db') }, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as Error).message).toContain(`assuming role '${principals.hopRoleArn}' (additionalRoles[1], with the credentials of the role before it)`);
  });

  it('names the role that could not be assumed when a link of the chain may not assume the next', async () => {
    const broken = await connect(secretRefSpec('aws-admin', principals.readerRoleArn, { additionalRoles: [principals.emptyRoleArn] }), 'aws-chain-broken');
    const err = await broken.validate({ signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as Error).message).toContain(`assuming role '${principals.readerRoleArn}' (role, with the credentials of the role before it): AccessDenied`);
  });
});

describe('aws provider with a ServiceAccount token (jwt)', () => {
  const key = (name: string) => `lockstep/${run}/jwt/${name}`;

  function claims(token: string): { aud: string[]; sub: string; exp: number } {
    const payload = token.split('.')[1] ?? '';
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud: string[]; sub: string; exp: number };
  }

  it('exchanges a TokenRequest token (audience sts.amazonaws.com) for a role session and reuses it', async () => {
    await put(key('db'), JSON.stringify({ password: 'jwt-read-value' }));
    const client = await connect(jwtSpec(principals.readerRoleArn), 'aws-jwt');
    tokens.length = 0;
    // moto cannot enforce IAM on the unsigned AssumeRoleWithWebIdentity call; the session it
    // returns is enforced like any other principal.
    await allowUnsignedRequests(peer, 1);
    expect(dec(await client.getSecret({ key: key('db'), property: 'password' }, { signal: signal() }))).toBe('jwt-read-value');
    expect(tokens).toHaveLength(1);
    const token = claims(tokens[0] ?? '');
    expect(token.aud).toEqual(['sts.amazonaws.com']);
    expect(token.sub).toBe(`system:serviceaccount:${namespace}:${SA}`);
    // The session is cached: no new token, no new STS call (which IAM enforcement would now refuse).
    await expect(client.validate({ signal: signal() })).resolves.toBeUndefined();
    expect(dec(await client.getSecret({ key: key('db') }, { signal: signal() }))).toContain('jwt-read-value');
    expect(tokens).toHaveLength(1);
  });

  it('reads with the permissions of the assumed role only', async () => {
    const client = await connect(jwtSpec(principals.emptyRoleArn), 'aws-jwt-empty');
    await allowUnsignedRequests(peer, 1);
    await expect(client.getSecret({ key: key('db') }, { signal: signal() })).rejects.toBeInstanceOf(AuthError);
  });

  it('reports a ServiceAccount that does not exist as a config error naming it', async () => {
    const spec = AwsProviderSpec.parse({ region: REGION, endpoint: peer.endpoint, role: principals.readerRoleArn, auth: { jwt: { serviceAccountRef: { name: 'no-such-sa' } } } });
    const client = await connect(spec, 'aws-jwt-missing-sa');
    const err = await client.getSecret({ key: key('db') }, { signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as Error).message).toContain(`ServiceAccount '${namespace}/no-such-sa' does not exist`);
  });

  it('refuses a jwt store without a role', () => {
    const spec = AwsProviderSpec.parse({ region: REGION, auth: { jwt: { serviceAccountRef: { name: SA } } } });
    expect(provider.validateConfig(spec)).toEqual(['auth.jwt needs role: the IAM role the ServiceAccount token is exchanged for']);
  });
});
