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

  it('keeps the Secret index and workload caches per namespace for up to 32 namespaces unless told otherwise', () => {
    expect(parseControllerConfig([], {}).scopedCachesMaxNamespaces).toBe(32);
    expect(parseControllerConfig(['--scoped-caches-max-namespaces', '0'], {}).scopedCachesMaxNamespaces).toBe(0);
    expect(() => parseControllerConfig(['--scoped-caches-max-namespaces', '-1'], {})).toThrow(/--scoped-caches-max-namespaces/);
  });

  it('checks every flag, naming each bad one in one message', () => {
    const bad = (args: string[]) => () => parseControllerConfig(args, {});
    expect(bad(['--workers', '257'])).toThrow('--workers: must be a whole number from 1 to 256');
    expect(bad(['--workers', 'ten'])).toThrow(/--workers/);
    expect(bad(['--workers', ''])).toThrow(/--workers/);
    expect(bad(['--max-rollouts-in-flight', '1.5'])).toThrow(/--max-rollouts-in-flight/);
    expect(bad(['--metrics-addr', '8080'])).toThrow('--metrics-addr: must be HOST:PORT (":8080" binds every interface)');
    expect(bad(['--health-addr', 'localhost:123456'])).toThrow(/--health-addr/);
    expect(bad(['--metrics-auth', 'open'])).toThrow("--metrics-auth: must be one of auto, kubernetes, none, not 'open'");
    expect(bad(['--log-level', 'loud'])).toThrow(/--log-level/);
    expect(bad(['--rollout-window', '5'])).toThrow(/--rollout-window: must be a duration/);
    expect(bad(['--error-requeue', '1m', '--store-revalidate', 'later', '--rollout-min-interval', '1h30m'])).toThrow(/^invalid flags: --store-revalidate: [^;]*$/);
    expect(bad(['--leader-election-id', '', '--hash-key-secret', ''])).toThrow('invalid flags: --leader-election-id: must not be empty; --hash-key-secret: must not be empty');
    expect(bad(['--identity', '', '--operator-namespace', ''])).toThrow(/--operator-namespace: must not be empty.*--identity: must not be empty/);
    expect(bad(['--metrics-cert-dir', ''])).toThrow(/--metrics-cert-dir/);
    expect(bad(['--namespace', ''])).toThrow(/--namespace: is not a namespace name/);
    expect(bad(['--namespace', 'a'.repeat(64)])).toThrow(/--namespace/);
  });

  it('parses the flags of delivery as files only with --files-addr, and checks them', () => {
    expect(parseControllerConfig(['--agent-url', 'nope'], {}).files).toBeUndefined();
    const files = parseControllerConfig(['--files-addr', ':9443', '--operator-namespace', 'ops'], { LOCKSTEP_IMAGE: 'img:1' }).files;
    expect(files).toEqual({
      addr: { host: '0.0.0.0', port: 9443 }, secret: 'lockstep-webhook-tls', webhookConfig: 'lockstep',
      hosts: ['lockstep-webhook.ops.svc', 'lockstep-webhook.ops.svc.cluster.local'], agentUrl: 'https://lockstep-webhook.ops.svc',
      agentImage: 'img:1', agentAudience: 'lockstep.dev/agent', sizeLimit: '1Mi', certDir: undefined,
    });
    const bad = (args: string[]) => () => parseControllerConfig(['--files-addr', ':9443', '--agent-image', 'img', ...args], {});
    expect(() => parseControllerConfig(['--files-addr', ':9443'], {})).toThrow("--agent-image: is required with --files-addr (the operator's own image)");
    expect(bad(['--agent-url', 'http://lockstep'])).toThrow('--agent-url: must be an https:// URL');
    expect(bad(['--agent-url', 'https://'])).toThrow('--agent-url: must be an https:// URL');
    expect(bad(['--files-size-limit', '1MB'])).toThrow('--files-size-limit: must be a quantity such as 1Mi');
    expect(bad(['--files-hosts', ' , '])).toThrow(/--files-hosts/);
    expect(bad(['--files-addr', 'x'])).toThrow(/--files-addr: must be HOST:PORT/);
    expect(bad(['--files-cert-dir', ''])).toThrow(/--files-cert-dir/);
    expect(bad(['--files-secret', '', '--webhook-config', '', '--agent-audience', ''])).toThrow(/--files-secret.*--webhook-config.*--agent-audience/);
  });

  it('takes a comma-separated list of namespaces, without repeats', () => {
    expect(parseControllerConfig(['--namespace', 'team-a, team-b,team-a'], {}).namespaces).toEqual(['team-a', 'team-b']);
    expect(parseControllerConfig([], {}).namespaces).toBeUndefined();
  });
});
