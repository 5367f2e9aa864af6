import { parseControllerConfig } from './config.js';

describe('controller config', () => {
  it('applies defaults', () => {
    const c = parseControllerConfig([], {});
    expect(c).toMatchObject({
      workers: 10,
      leaderElect: true,
      operatorNamespace: 'lockstep-system',
      leaderElectionNamespace: 'lockstep-system',
      metricsAddr: { host: '0.0.0.0', port: 8080 },
      providerTimeoutMs: 30_000,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses flags', () => {
    const c = parseControllerConfig(
      ['--kubeconfig', '/k', '--workers', '4', '--no-leader-elect', '--health-addr', '127.0.0.1:0', '--namespace', 'a'],
      { POD_NAMESPACE: 'ops' },
    );
    expect(c).toMatchObject({ kubeconfig: '/k', workers: 4, leaderElect: false, namespaces: ['a'], operatorNamespace: 'ops' });
    expect(c.healthAddr).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('fails fast with a message naming the flag', () => {
    expect(() => parseControllerConfig(['--workers', '0'], {})).toThrow(/--workers/);
    expect(() => parseControllerConfig(['--provider-timeout', 'soon'], {})).toThrow(/--provider-timeout/);
    expect(() => parseControllerConfig(['--bogus'], {})).toThrow();
    expect(() => parseControllerConfig(['--namespace', 'a,Team_B'], {})).toThrow(/--namespace: is not a namespace name/);
  });

  it('serves ClusterSecretStores and looks for Argo Rollouts unless told otherwise', () => {
    expect(parseControllerConfig([], {})).toMatchObject({ clusterStores: true, argoRollouts: 'auto' });
    expect(parseControllerConfig(['--no-cluster-stores', '--argo-rollouts', 'never'], {})).toMatchObject({ clusterStores: false, argoRollouts: 'never' });
    expect(() => parseControllerConfig(['--argo-rollouts', 'maybe'], {})).toThrow(/--argo-rollouts/);
  });

  it('takes a comma-separated list of namespaces, without repeats', () => {
    expect(parseControllerConfig(['--namespace', 'team-a, team-b,team-a'], {}).namespaces).toEqual(['team-a', 'team-b']);
    expect(parseControllerConfig([], {}).namespaces).toBeUndefined();
  });
});
