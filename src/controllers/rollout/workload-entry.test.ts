import { ALL_KEYS, findSecretUsage } from './consumers.js';
import { buildWorkloadEntry, decodeSecretReads, encodeSecretReads } from './workload-entry.js';
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
    expect(entry.spec?.template).toEqual({ metadata: { annotations: { 'lockstep.dev/restarted-for': 'abc' } } });
    expect(entry.secretReads).toBe('db/password\napi\ntls/tls.crt');
    expect(entry.metadata).toMatchObject({ name: 'web', namespace: 'team-a', uid: 'u1', generation: 3, labels: { app: 'web' } });
    expect(entry.metadata.resourceVersion).toBeUndefined();
  });

  it('keeps no rollout progress of a workload Lockstep never restarted', () => {
    const w = deployment();
    delete w.spec?.template?.metadata?.annotations?.['lockstep.dev/restarted-for'];
    const entry = buildWorkloadEntry(w) as Workload;
    expect(entry).toEqual({
      metadata: { name: 'web', namespace: 'team-a', uid: 'u1', labels: { app: 'web' }, annotations: { 'lockstep.dev/restart-on': 'auto' } },
      secretReads: 'db/password\napi\ntls/tls.crt',
    });
  });

  it('plans and judges rollouts as the pod template says', () => {
    const whole = deployment();
    const entry = buildWorkloadEntry(deployment());
    const cases = [['db', ['password'], true], ['db', ['user'], false], ['api', ['k'], true], ['tls', ['tls.crt'], true], ['tls', ['tls.key'], false], ['other', ['k'], false]] as const;
    for (const [secretName, changedKeys, restarts] of cases) {
      const input = { namespace: 'team-a', secretName, changedKeys: [...changedKeys], targets: [] };
      expect(planRollout({ Deployment: informerOf([entry]) }, input)).toEqual(restarts ? ['Deployment/web'] : []);
    }
    expect(isRolloutComplete('Deployment', entry as Workload)).toBe(isRolloutComplete('Deployment', whole));
  });
});

describe('encodeSecretReads', () => {
  it('round-trips what findSecretUsage finds', () => {
    const usage = findSecretUsage({
      containers: [{ env: [{ valueFrom: { secretKeyRef: { name: 'db', key: 'user' } } }, { valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }],
      initContainers: [{ envFrom: [{ secretRef: { name: 'api' } }] }],
      volumes: [{ secret: { secretName: 'api', items: [{ key: 'k' }] } }, { projected: { sources: [{ secret: { name: 'tls', items: [{ key: 'tls.crt' }, { key: 'tls.key' }] } }] } }],
    });
    expect(usage).toEqual(new Map<string, unknown>([['db', new Set(['user', 'password'])], ['api', ALL_KEYS], ['tls', new Set(['tls.crt', 'tls.key'])]]));
    expect(decodeSecretReads(encodeSecretReads(usage))).toEqual(usage);
    expect(encodeSecretReads(new Map())).toBeUndefined();
    expect(decodeSecretReads(undefined)).toEqual(new Map());
  });
});
