import { REPORTING_CONTROLLER, buildEvent, formatMicroTime } from './event-builder.js';

describe('formatMicroTime', () => {
  it('formats RFC 3339 with six fractional digits', () => {
    expect(formatMicroTime(Date.UTC(2026, 10, 22, 4, 11, 0, 123))).toBe('2026-11-22T04:11:00.123000Z');
  });
});

describe('buildEvent', () => {
  const regarding = { apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', name: 'db', namespace: 'team-a', uid: 'u1' };

  it('builds an events.k8s.io/v1 Event with generateName in the object namespace', () => {
    const ev = buildEvent({ regarding, type: 'Normal', reason: 'SecretRotated', message: 'rotated', action: 'Sync' }, 'pod-1', 0);
    expect(ev).toEqual({
      apiVersion: 'events.k8s.io/v1', kind: 'Event',
      metadata: { generateName: 'db-', namespace: 'team-a' },
      eventTime: '1970-01-01T00:00:00.000000Z',
      reportingController: REPORTING_CONTROLLER, reportingInstance: 'pod-1',
      action: 'Sync', reason: 'SecretRotated', note: 'rotated', type: 'Normal', regarding,
    });
  });

  it('puts events of cluster-scoped objects in default and truncates the note', () => {
    const ev = buildEvent({
      regarding: { apiVersion: 'lockstep.dev/v1alpha1', kind: 'ClusterSecretStore', name: 'vault' },
      type: 'Warning', reason: 'Invalid', message: 'x'.repeat(5000), action: 'Validate',
    }, 'pod-1', 0);
    expect(ev.metadata.namespace).toBe('default');
    expect((ev.note as string).length).toBe(1024);
    expect(ev.regarding).toEqual({ apiVersion: 'lockstep.dev/v1alpha1', kind: 'ClusterSecretStore', name: 'vault' });
  });
});
