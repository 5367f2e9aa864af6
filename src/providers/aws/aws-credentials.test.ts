import { buildLogger } from '../../observability/logger.js';
import { SecretScrubber } from '../../observability/secret-scrubber.js';
import type { StoreContext } from '../provider.js';
import type { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { AwsProviderSpec } from '../../api/providers/aws.js';
import { AuthError } from '../provider-errors.js';
import { validateAwsConfig } from './aws-provider.js';
import { assumeRoleLoader, type AwsCredentials, buildCredentialProvider, buildRoleChain, buildSessionName, RefreshingCredentials } from './aws-credentials.js';

const MINUTE = 60_000;

describe('RefreshingCredentials', () => {
  function setup(lifetimeMs: number | undefined) {
    let now = 1_000_000;
    let loads = 0;
    const load = (): Promise<AwsCredentials> => {
      loads += 1;
      const expiration = lifetimeMs === undefined ? undefined : new Date(now + lifetimeMs);
      return Promise.resolve({ accessKeyId: `ASIA${loads}`, secretAccessKey: 's', sessionToken: 't', expiration });
    };
    const creds = new RefreshingCredentials(load, () => now);
    return { creds, loads: () => loads, advance: (ms: number) => (now += ms) };
  }

  it('reuses a session until five minutes before it expires', async () => {
    const { creds, loads, advance } = setup(60 * MINUTE);
    expect((await creds.provide()).accessKeyId).toBe('ASIA1');
    advance(54 * MINUTE);
    expect((await creds.provide()).accessKeyId).toBe('ASIA1');
    advance(2 * MINUTE);
    expect((await creds.provide()).accessKeyId).toBe('ASIA2');
    expect(loads()).toBe(2);
  });

  it('refreshes short sessions when a third of their lifetime is left', async () => {
    const { creds, advance } = setup(3 * MINUTE);
    await creds.provide();
    advance(1.9 * MINUTE);
    expect((await creds.provide()).accessKeyId).toBe('ASIA1');
    advance(0.2 * MINUTE);
    expect((await creds.provide()).accessKeyId).toBe('ASIA2');
  });

  it('shares one load among concurrent callers and never refreshes keys without expiry', async () => {
    const { creds, loads, advance } = setup(undefined);
    await Promise.all([creds.provide(), creds.provide(), creds.provide()]);
    advance(1000 * MINUTE);
    await creds.provide();
    expect(loads()).toBe(1);
  });

  it('does not cache a failed load', async () => {
    let calls = 0;
    const creds = new RefreshingCredentials(() => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('sts down')) : Promise.resolve({ accessKeyId: 'A', secretAccessKey: 'S' });
    });
    await expect(creds.provide()).rejects.toThrow('sts down');
    await expect(creds.provide()).resolves.toEqual({ accessKeyId: 'A', secretAccessKey: 'S' });
  });
});

describe('buildCredentialProvider', () => {
  function context(values: Record<string, string>): StoreContext {
    const scrubber = new SecretScrubber();
    return {
      namespace: 'team-a',
      storeKind: 'SecretStore',
      storeName: 'aws',
      scrubber,
      log: buildLogger({ scrubber, level: 'silent' }),
      credentials: {
        readSecretKey: (ref) => Promise.resolve(values[ref.key] ?? ''),
        requestServiceAccountToken: () => Promise.reject(new Error('unused')),
      },
    };
  }
  const secretRef = {
    accessKeyIDSecretRef: { name: 'aws', key: 'id' },
    secretAccessKeySecretRef: { name: 'aws', key: 'secret' },
    sessionTokenSecretRef: { name: 'aws', key: 'token' },
  };

  it('reads static keys once, trims them and registers them with the scrubber', async () => {
    const ctx = context({ id: 'AKIAEXAMPLE\n', secret: ' wJalrXUtnFEMI/K7MDENG \n', token: 'session-token' });
    const provider = await buildCredentialProvider({ region: 'us-east-1', auth: { secretRef } }, ctx);
    await expect(provider.provide()).resolves.toEqual({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'session-token' });
    expect(ctx.scrubber.scrub('key wJalrXUtnFEMI/K7MDENG token session-token')).toBe('key [REDACTED] token [REDACTED]');
    provider.close();
  });

  it('refuses an empty key', async () => {
    const ctx = context({ id: 'AKIAEXAMPLE', secret: '  ' });
    await expect(buildCredentialProvider({ region: 'us-east-1', auth: { secretRef: { ...secretRef, sessionTokenSecretRef: undefined } } }, ctx)).rejects.toThrow(
      "key 'secret' of Secret 'aws' is empty",
    );
  });
});

describe('buildSessionName', () => {
  it('names the store within the characters STS allows', () => {
    expect(buildSessionName({ namespace: 'team-a', storeName: 'aws' })).toBe('lockstep-team-a.aws');
    expect(buildSessionName({ storeName: 'x'.repeat(100) })).toHaveLength(64);
  });
});

describe('buildRoleChain (ESO: additionalRoles in order, then role with externalID and session tags)', () => {
  const arn = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
  const keys = { secretRef: { accessKeyIDSecretRef: { name: 's', key: 'id' }, secretAccessKeySecretRef: { name: 's', key: 'secret' } } };

  it('assumes additionalRoles first, then role, and sends the external ID and tags only with role', () => {
    const spec = AwsProviderSpec.parse({
      region: 'eu-west-1',
      role: arn('final'),
      additionalRoles: [arn('hop-1'), arn('hop-2')],
      externalID: 'team-a-4711',
      sessionTags: [{ key: 'team', value: 'a' }, { key: 'env', value: 'prod' }],
      transitiveTagKeys: ['team'],
      auth: keys,
    });
    expect(validateAwsConfig(spec)).toEqual([]);
    expect(buildRoleChain(spec)).toEqual([
      { role: arn('hop-1'), field: 'additionalRoles[0]' },
      { role: arn('hop-2'), field: 'additionalRoles[1]' },
      {
        role: arn('final'),
        field: 'role',
        externalId: 'team-a-4711',
        tags: [{ Key: 'team', Value: 'a' }, { Key: 'env', Value: 'prod' }],
        transitiveTagKeys: ['team'],
      },
    ]);
  });

  it('with a web identity session of role, assumes only additionalRoles after it; without roles, nothing', () => {
    const jwt = AwsProviderSpec.parse({ region: 'eu-west-1', role: arn('web'), additionalRoles: [arn('next')], auth: { jwt: { serviceAccountRef: { name: 'sa' } } } });
    expect(buildRoleChain(jwt)).toEqual([{ role: arn('next'), field: 'additionalRoles[0]' }]);
    expect(buildRoleChain(AwsProviderSpec.parse({ region: 'eu-west-1', auth: keys }))).toEqual([]);
  });

  it('refuses role options that would not be sent, stray transitive keys and repeated tags', () => {
    const base = { region: 'eu-west-1', auth: keys };
    expect(validateAwsConfig(AwsProviderSpec.parse({ ...base, externalID: 'x-1' }))).toEqual([
      'externalID is sent when role is assumed with sts:AssumeRole: set role and auth.secretRef',
    ]);
    const jwt = AwsProviderSpec.parse({ region: 'eu-west-1', role: arn('web'), sessionTags: [{ key: 'a', value: '1' }], auth: { jwt: { serviceAccountRef: { name: 'sa' } } } });
    expect(validateAwsConfig(jwt)).toEqual(['sessionTags is sent when role is assumed with sts:AssumeRole: set role and auth.secretRef']);
    const tags = AwsProviderSpec.parse({ ...base, role: arn('r'), sessionTags: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }], transitiveTagKeys: ['b'] });
    expect(validateAwsConfig(tags)).toEqual(["transitiveTagKeys 'b' not among the keys of sessionTags", 'sessionTags has a key more than once']);
    expect(AwsProviderSpec.safeParse({ ...base, additionalRoles: ['not-an-arn'] }).success).toBe(false);
  });

  it('sends the step to STS and names the role (and its place in the chain) when it cannot be assumed', async () => {
    const sent: AssumeRoleCommand['input'][] = [];
    const ok = { send: (cmd: AssumeRoleCommand) => (sent.push(cmd.input), Promise.resolve({ Credentials: { AccessKeyId: 'ASIA1', SecretAccessKey: 'chained-secret-key-0001', SessionToken: 'chained-session-token-0001', Expiration: new Date() } })) };
    const step = { role: arn('final'), field: 'role', externalId: 'ext-1', tags: [{ Key: 'team', Value: 'a' }], transitiveTagKeys: ['team'] };
    const ctx = { namespace: 'team-a', storeName: 'aws', scrubber: new SecretScrubber() } as unknown as StoreContext;
    await assumeRoleLoader(step, ok as never, ctx, true)();
    expect(sent[0]).toMatchObject({ RoleArn: arn('final'), RoleSessionName: 'lockstep-team-a.aws', ExternalId: 'ext-1', Tags: step.tags, TransitiveTagKeys: ['team'] });
    expect(ctx.scrubber.scrub('chained-secret-key-0001 chained-session-token-0001')).toBe('[REDACTED] [REDACTED]');
    const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const err = await assumeRoleLoader({ role: arn('hop'), field: 'additionalRoles[1]' }, { send: () => Promise.reject(denied) } as never, ctx, true)().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as Error).message).toContain(`assuming role '${arn('hop')}' (additionalRoles[1], with the credentials of the role before it): AccessDenied`);
  });
});
