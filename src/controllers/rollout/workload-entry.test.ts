import { buildWorkloadEntry } from './workload-entry.js';
import { planRollout } from './rollout-planner.js';
import { isRolloutComplete, type Workload } from './workloads.js';
import type { Informer, KubeObject } from '../../kube/kube-port.js';

const big = 'x'.repeat(5000);

function deployment(): Workload {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web', namespace: 'team-a', uid: 'u1', resourceVersion: '7', generation: 3,
      labels: { app: 'web' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': big, 'lockstep.dev/restart-on': 'auto' },
    },
    spec: {
      replicas: 2,
      template: {
        metadata: { annotations: { 'lockstep.dev/restarted-for': 'abc', 'prometheus.io/scrape': 'true' } },
        spec: {
          containers: [{
            env: [{ valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }, { valueFrom: {} }],
            envFrom: [{ secretRef: { name: 'api' } }, {}],
            image: 'nginx', command: ['a', big],
          } as never],
          volumes: [{ secret: { secretName: 'tls', items: [{ key: 'tls.crt', path: 'c' } as never] } }, { emptyDir: {} } as never],
        },
      },
    },
    status: { observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2, conditions: [{ message: big }] },
  };
}

const informerOf = (objs: KubeObject[]): Informer<KubeObject> => ({
  start: () => Promise.resolve(), stop: () => undefined, hasSynced: () => true,
  get: () => undefined, list: () => objs, on: () => undefined,
});

describe('buildWorkloadEntry', () => {
  it('keeps what restarts read and drops the rest', () => {
    const entry = buildWorkloadEntry(deployment()) as Workload;
    expect(JSON.stringify(entry).length).toBeLessThan(700);
    expect(entry.metadata.annotations).toEqual({ 'lockstep.dev/restart-on': 'auto' });
    expect(entry.spec?.template?.metadata?.annotations).toEqual({ 'lockstep.dev/restarted-for': 'abc' });
    expect(entry.spec?.template?.spec).toEqual({
      containers: [{ env: [{ valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }], envFrom: [{ secretRef: { name: 'api' } }] }],
      volumes: [{ secret: { secretName: 'tls', items: [{ key: 'tls.crt' }] } }],
    });
    expect(entry.metadata).toMatchObject({ name: 'web', namespace: 'team-a', uid: 'u1', resourceVersion: '7', generation: 3, labels: { app: 'web' } });
  });

  it('plans and judges rollouts exactly as the whole object does', () => {
    const whole = deployment();
    const entry = buildWorkloadEntry(deployment());
    for (const [secretName, changedKeys] of [['db', ['password']], ['db', ['user']], ['api', ['k']], ['tls', ['tls.crt']], ['tls', ['tls.key']], ['other', ['k']]] as const) {
      const input = { namespace: 'team-a', secretName, changedKeys: [...changedKeys], targets: [] };
      expect(planRollout({ Deployment: informerOf([entry]) }, input)).toEqual(planRollout({ Deployment: informerOf([whole]) }, input));
    }
    expect(isRolloutComplete('Deployment', entry as Workload)).toBe(isRolloutComplete('Deployment', whole));
  });
});
