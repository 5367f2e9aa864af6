import type { Condition } from '../api/common.js';
import { buildConditions } from './conditions.js';

const T0 = new Date('2026-12-02T10:00:00Z');
const T1 = new Date('2026-12-02T10:05:00Z');
const types = (cs: { type: string; status: string }[]) => cs.map((c) => `${c.type}=${c.status}`);

describe('buildConditions (kstatus)', () => {
  test('Ready=True alone when synced', () => {
    expect(types(buildConditions(undefined, { status: 'True', reason: 'SecretSynced', message: 'ok' }, 3, T0))).toEqual(['Ready=True']);
  });

  test('a failure that may heal is Reconciling; one that needs a change is Stalled, with the same reason', () => {
    const transient = buildConditions(undefined, { status: 'False', reason: 'ProviderError', message: 'throttled' }, 3, T0);
    expect(types(transient)).toEqual(['Ready=False', 'Reconciling=True']);
    expect(transient[1]).toMatchObject({ reason: 'ProviderError', message: 'throttled', observedGeneration: 3 });
    const permanent = buildConditions(transient, { status: 'False', reason: 'InvalidSpec', message: 'bad template' }, 4, T1);
    expect(types(permanent)).toEqual(['Ready=False', 'Stalled=True']);
    expect(permanent[0]?.lastTransitionTime).toBe('2026-12-02T10:00:00Z'); // Ready stayed False
    expect(permanent[1]?.lastTransitionTime).toBe('2026-12-02T10:05:00Z');
  });

  test('recovery drops Reconciling and Stalled, keeps conditions others own', () => {
    const failing: Condition[] = [
      { type: 'Ready', status: 'False', reason: 'StoreNotAllowed', message: 'no', lastTransitionTime: 'x' },
      { type: 'Stalled', status: 'True', reason: 'StoreNotAllowed', message: 'no', lastTransitionTime: 'x' },
      { type: 'SomeoneElses', status: 'True', reason: 'Theirs', message: '', lastTransitionTime: 'x' },
    ];
    expect(types(buildConditions(failing, { status: 'True', reason: 'SecretSynced', message: 'ok' }, 5, T1))).toEqual(['SomeoneElses=True', 'Ready=True']);
  });
});
