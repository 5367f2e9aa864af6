import { buildLogger } from '../../observability/logger.js';
import { SecretScrubber } from '../../observability/secret-scrubber.js';
import type { StoreContext } from '../provider.js';
import { type AwsCredentials, buildCredentialProvider, buildSessionName, RefreshingCredentials } from './aws-credentials.js';

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
