import { z } from 'zod';
import { AwsProviderSpec } from '../../api/providers/aws.js';
import { buildLogger } from '../../observability/logger.js';
import { SecretScrubber } from '../../observability/secret-scrubber.js';
import { InvalidConfigError } from '../provider-errors.js';
import { awsProvider } from './aws-provider.js';

const secretRef = {
  accessKeyIDSecretRef: { name: 'aws', key: 'id' },
  secretAccessKeySecretRef: { name: 'aws', key: 'secret' },
};
const role = 'arn:aws:iam::123456789012:role/lockstep-reader';

describe('AwsProviderSpec', () => {
  it('accepts each auth method', () => {
    expect(AwsProviderSpec.safeParse({ region: 'eu-west-1', auth: { secretRef } }).success).toBe(true);
    expect(AwsProviderSpec.safeParse({ region: 'us-gov-west-1', role, endpoint: 'http://127.0.0.1:4566', auth: { jwt: { serviceAccountRef: { name: 'sa' } } } }).success).toBe(true);
  });

  it('rejects a bad region, role ARN or endpoint', () => {
    expect(AwsProviderSpec.safeParse({ region: 'Europe', auth: { secretRef } }).success).toBe(false);
    expect(AwsProviderSpec.safeParse({ region: 'eu-west-1', role: 'lockstep-reader', auth: { secretRef } }).success).toBe(false);
    expect(AwsProviderSpec.safeParse({ region: 'eu-west-1', endpoint: 'localhost:4566', auth: { secretRef } }).success).toBe(false);
  });

  it('is a structural schema with exactly one auth method', () => {
    const schema = z.toJSONSchema(AwsProviderSpec, { target: 'openapi-3.0', io: 'input', reused: 'inline' }) as unknown as {
      required: string[];
      properties: { auth: { minProperties: number; maxProperties: number; anyOf?: unknown } };
    };
    expect(schema.required.sort()).toEqual(['auth', 'region']);
    expect(schema.properties.auth).toMatchObject({ minProperties: 1, maxProperties: 1 });
    expect(JSON.stringify(schema)).not.toMatch(/"(anyOf|oneOf|allOf)"/);
  });
});

describe('awsProvider.validateConfig', () => {
  it('needs a role for jwt and exactly one auth method', () => {
    expect(awsProvider.validateConfig({ region: 'eu-west-1', auth: { jwt: { serviceAccountRef: { name: 'sa' } } } })).toEqual([
      'auth.jwt needs role: the IAM role the ServiceAccount token is exchanged for',
    ]);
    expect(awsProvider.validateConfig({ region: 'eu-west-1', auth: {} })).toEqual(['auth must set exactly one of secretRef or jwt']);
    expect(awsProvider.validateConfig({ region: 'eu-west-1', role, auth: { secretRef } })).toEqual([]);
  });

  it('makes connect fail with a config error naming the problem', async () => {
    const scrubber = new SecretScrubber();
    const ctx = {
      storeKind: 'SecretStore' as const,
      storeName: 'aws',
      namespace: 'team-a',
      scrubber,
      log: buildLogger({ scrubber, level: 'silent' }),
      credentials: { readSecretKey: () => Promise.reject(new Error('unused')), requestServiceAccountToken: () => Promise.reject(new Error('unused')) },
    };
    const connecting = awsProvider.connect({ region: 'eu-west-1', auth: { jwt: { serviceAccountRef: { name: 'sa' } } } }, ctx);
    await expect(connecting).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(connecting).rejects.toThrow('auth.jwt needs role');
  });
});
