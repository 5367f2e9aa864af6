import { sameStatus } from './external-secret-reconciler.js';

describe('sameStatus', () => {
  const ours = {
    observedGeneration: 2,
    conditions: [{ type: 'Ready', status: 'True' as const, reason: 'SecretSynced', message: "Secret 'db' is in sync (1 keys)", lastTransitionTime: '2026-12-03T10:00:00Z', observedGeneration: 2 }],
    refreshTime: '2026-12-03T10:00:00.000Z',
    syncedResourceVersion: 'abcdef0123456789',
    binding: { name: 'db' },
  };

  it('agrees with the same status as the API server returns it, keys sorted', () => {
    const fromServer = JSON.parse(JSON.stringify({
      binding: { name: 'db' },
      conditions: [{ lastTransitionTime: '2026-12-03T10:00:00Z', message: "Secret 'db' is in sync (1 keys)", observedGeneration: 2, reason: 'SecretSynced', status: 'True', type: 'Ready' }],
      observedGeneration: 2,
      refreshTime: '2026-12-03T10:00:00.000Z',
      syncedResourceVersion: 'abcdef0123456789',
    }));
    expect(sameStatus(fromServer, ours)).toBe(true);
  });

  it('sees a change in any field it writes, and ignores fields others write', () => {
    expect(sameStatus(ours, { ...ours, refreshTime: '2026-12-03T10:00:30.000Z' })).toBe(false);
    expect(sameStatus(ours, { ...ours, conditions: [{ ...ours.conditions[0]!, message: 'other' }] })).toBe(false);
    expect(sameStatus(ours, { ...ours, binding: undefined })).toBe(false);
    expect(sameStatus(ours, { ...ours, lastRotationTime: '2026-12-03T10:00:30.000Z' })).toBe(true);
  });
});
