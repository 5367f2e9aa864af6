import { ALL_KEYS, findSecretUsage, parseRestartOn, shouldRestartFor } from './consumers.js';

describe('consumers', () => {
  const spec = {
    containers: [
      {
        env: [
          { valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
          { valueFrom: { secretKeyRef: { name: 'db', key: 'user' } } },
          { valueFrom: {} },
        ],
        envFrom: [{ secretRef: { name: 'api' } }],
      },
    ],
    initContainers: [{ env: [{ valueFrom: { secretKeyRef: { name: 'init', key: 'k' } } }] }],
    volumes: [
      { secret: { secretName: 'tls', items: [{ key: 'tls.crt' }] } },
      { secret: { secretName: 'whole' } },
      { projected: { sources: [{ secret: { name: 'proj', items: [{ key: 'a' }] } }, { secret: { name: 'proj-all' } }] } },
    ],
  };

  it('finds every Secret a pod template uses, with the keys it reads', () => {
    const usage = findSecretUsage(spec);
    expect(usage.get('db')).toEqual(new Set(['password', 'user']));
    expect(usage.get('api')).toBe(ALL_KEYS);
    expect(usage.get('init')).toEqual(new Set(['k']));
    expect(usage.get('tls')).toEqual(new Set(['tls.crt']));
    expect(usage.get('whole')).toBe(ALL_KEYS);
    expect(usage.get('proj')).toEqual(new Set(['a']));
    expect(usage.get('proj-all')).toBe(ALL_KEYS);
  });

  it('a whole-Secret use wins over single keys', () => {
    const usage = findSecretUsage({ containers: [{ env: [{ valueFrom: { secretKeyRef: { name: 'x', key: 'k' } } }], envFrom: [{ secretRef: { name: 'x' } }] }] });
    expect(usage.get('x')).toBe(ALL_KEYS);
  });

  it('restarts only when a consumed key changed', () => {
    expect(shouldRestartFor(new Set(['password']), ['user'])).toBe(false);
    expect(shouldRestartFor(new Set(['password']), ['user', 'password'])).toBe(true);
    expect(shouldRestartFor(ALL_KEYS, ['anything'])).toBe(true);
    expect(shouldRestartFor(undefined, ['anything'])).toBe(true);
  });

  it('parses the opt-in annotation', () => {
    const usage = findSecretUsage(spec);
    expect(parseRestartOn('auto', usage)).toEqual(new Set(usage.keys()));
    expect(parseRestartOn(' a, b ,', usage)).toEqual(new Set(['a', 'b']));
    expect(parseRestartOn(undefined, usage)).toEqual(new Set());
  });
});
