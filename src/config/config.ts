/**
 * The operator's flags (and env fallbacks), parsed and checked once into a frozen config. Fails
 * fast, naming each bad flag.
 *
 * Checked by hand, not with a zod schema: this runs at every start, and loading zod costs ~9 MB
 * of RSS (bare node 43.6 MB, with zod 53.0) that an operator with no objects otherwise never
 * spends (the API's schemas load with the first object: api/schema-loader.ts). The flags are few
 * and flat, so each gets its check below; `config.test.ts` holds every rule to account.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DURATION_PATTERN, parseDuration } from '../api/common.js';

export interface Address {
  host: string;
  port: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface FilesConfig {
  addr: Address;
  certDir?: string;
  secret: string;
  webhookConfig: string;
  hosts: string[];
  agentUrl: string;
  agentImage: string;
  agentAudience: string;
  sizeLimit: string;
}

export type ControllerConfig = Readonly<{
  kubeconfig?: string;
  workers: number;
  /** Namespaces to watch; undefined: all. */
  namespaces?: string[];
  /** Watching all namespaces: the Secret index and workload caches per namespace for up to this many namespaces with ExternalSecrets. */
  scopedCachesMaxNamespaces: number;
  metricsAddr: Address;
  /** Who may read /metrics: "kubernetes" (TokenReview + SubjectAccessReview), "none", or "auto" (kubernetes unless bound to loopback). */
  metricsAuth: 'auto' | 'kubernetes' | 'none';
  /** tls.crt and tls.key for /metrics over HTTPS; without it an authenticated /metrics gets a self-signed certificate. */
  metricsCertDir?: string;
  healthAddr: Address;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  operatorNamespace: string;
  hashKeySecret: string;
  identity: string;
  logLevel: LogLevel;
  providerTimeoutMs: number;
  errorRequeueMs: number;
  storeRevalidateMs: number;
  rollouts: boolean;
  /** Restart Argo Rollouts too: "auto" when their CRD is installed (a cluster-wide get), or always/never. */
  argoRollouts: 'auto' | 'always' | 'never';
  /**
   * Serve ClusterSecretStores (a cluster-wide list/watch of them and of Namespaces). Off, the
   * operator needs no cluster-scoped right at all with --namespace (namespaced Roles only).
   */
  clusterStores: boolean;
  rolloutWindowMs: number;
  rolloutMinIntervalMs: number;
  maxRolloutsInFlight: number;
  /** Delivery as files: set with --files-addr. */
  files?: FilesConfig;
}>;

export const CONTROLLER_HELP = `usage: lockstep controller [flags]

  --kubeconfig PATH                 kubeconfig to use (default: in-cluster service account)
  --workers N                       concurrent reconciles (default 10)
  --namespace NS[,NS...]            watch only these namespaces (default: all)
  --scoped-caches-max-namespaces N  watching all namespaces, cache Secrets and workloads only in the namespaces
                                    holding ExternalSecrets, one watch each, while they are at most N and at most
                                    half of the cluster's; otherwise one cluster-wide watch each (default 32; 0:
                                    always cluster-wide)
  --metrics-addr HOST:PORT          Prometheus /metrics (default :8080)
  --metrics-auth auto|kubernetes|none  who may read /metrics: a bearer token the API server reviews, allowed to
                                    get /metrics (kubernetes); anyone (none); auto: kubernetes unless bound to loopback.
                                    Authenticated /metrics on its own address is served over HTTPS
  --metrics-cert-dir DIR            tls.crt and tls.key for it (default: a self-signed certificate made at start)
  --health-addr HOST:PORT           /healthz and /readyz (default :8081)
  --leader-elect / --no-leader-elect  elect a leader through a Lease (default on)
  --leader-election-namespace NS    namespace of the Lease (default: the operator namespace)
  --leader-election-id NAME         name of the Lease (default lockstep-controller)
  --operator-namespace NS           where the operator keeps its own state (default $POD_NAMESPACE or lockstep-system)
  --hash-key-secret NAME            Secret holding the data-hash HMAC key (default lockstep-hash-key)
  --identity NAME                   this replica's identity (default $POD_NAME or hostname)
  --log-level LEVEL                 fatal|error|warn|info|debug|trace (default info)
  --provider-timeout DURATION       deadline of each provider call (default 30s)
  --error-requeue DURATION          retry interval after a permanent error (default 1m)
  --store-revalidate DURATION       how often stores are re-validated (default 10m)
  --rollouts / --no-rollouts        restart consuming workloads when a Secret rotates (default on)
  --argo-rollouts auto|always|never  restart Argo Rollouts too (default auto: when their CRD is installed)
  --cluster-stores / --no-cluster-stores  serve ClusterSecretStores (default on; off, with --namespace the
                                    operator needs namespaced Roles only)
  --rollout-window DURATION         changes seen within this window restart a workload once (default 5s)
  --rollout-min-interval DURATION   least time between two restarts of one workload (default 1m)
  --max-rollouts-in-flight N        cluster-wide cap on restarts still rolling out (default 10)

delivery as files (off unless --files-addr is set):
  --files-addr HOST:PORT            serve the injection webhook and the agents' API over HTTPS here
  --files-cert-dir DIR              take tls.crt, tls.key, ca.crt from DIR (cert-manager) instead of managing them
  --files-secret NAME               Secret (operator namespace) holding the self-managed certificate (default lockstep-webhook-tls)
  --webhook-config NAME             MutatingWebhookConfiguration whose caBundle we set (default lockstep)
  --files-hosts H[,H...]            names and IPs the certificate is for (default lockstep-webhook.NS.svc[.cluster.local])
  --agent-url URL                   how injected agents reach the operator (default https://FIRST-HOST)
  --agent-image IMAGE               the image injected agents run (the operator's own; default $LOCKSTEP_IMAGE)
  --agent-audience AUD              audience of the agents' ServiceAccount tokens (default lockstep.dev/agent)
  --files-size-limit QTY            size limit of the in-memory volume in each pod (default 1Mi)
`;

/** The flags and their defaults, for parseArgs. */
function flagOptions(env: NodeJS.ProcessEnv) {
  return {
    kubeconfig: { type: 'string' },
    workers: { type: 'string', default: '10' },
    namespace: { type: 'string' },
    'scoped-caches-max-namespaces': { type: 'string', default: '32' },
    'metrics-addr': { type: 'string', default: ':8080' },
    'metrics-auth': { type: 'string', default: 'auto' },
    'metrics-cert-dir': { type: 'string' },
    'health-addr': { type: 'string', default: ':8081' },
    'leader-elect': { type: 'boolean', default: true },
    'leader-election-namespace': { type: 'string' },
    'leader-election-id': { type: 'string', default: 'lockstep-controller' },
    'operator-namespace': { type: 'string' },
    'hash-key-secret': { type: 'string', default: 'lockstep-hash-key' },
    identity: { type: 'string' },
    'log-level': { type: 'string', default: env['LOG_LEVEL'] ?? 'info' },
    'provider-timeout': { type: 'string', default: '30s' },
    'error-requeue': { type: 'string', default: '1m' },
    'store-revalidate': { type: 'string', default: '10m' },
    rollouts: { type: 'boolean', default: true },
    'argo-rollouts': { type: 'string', default: 'auto' },
    'cluster-stores': { type: 'boolean', default: true },
    'rollout-window': { type: 'string', default: '5s' },
    'rollout-min-interval': { type: 'string', default: '1m' },
    'max-rollouts-in-flight': { type: 'string', default: '10' },
    'files-addr': { type: 'string' },
    'files-cert-dir': { type: 'string' },
    'files-secret': { type: 'string', default: 'lockstep-webhook-tls' },
    'webhook-config': { type: 'string', default: 'lockstep' },
    'files-hosts': { type: 'string' },
    'agent-url': { type: 'string' },
    'agent-image': { type: 'string', default: env['LOCKSTEP_IMAGE'] ?? '' },
    'agent-audience': { type: 'string', default: 'lockstep.dev/agent' },
    'files-size-limit': { type: 'string', default: '1Mi' },
  } as const;
}

export function parseControllerConfig(args: string[], env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const { values } = parseArgs({
    args,
    strict: true,
    allowNegative: true,
    options: flagOptions(env),
  });
  const operatorNamespace = values['operator-namespace'] ?? env['POD_NAMESPACE'] ?? 'lockstep-system';
  const hosts = values['files-hosts']?.split(',').map((h) => h.trim()).filter(Boolean)
    ?? [`lockstep-webhook.${operatorNamespace}.svc`, `lockstep-webhook.${operatorNamespace}.svc.cluster.local`];
  const check = new FlagChecker();
  const filesAddr = values['files-addr'];
  const config: ControllerConfig = {
    kubeconfig: values.kubeconfig ?? env['KUBECONFIG_PATH'],
    workers: check.integer('workers', values.workers, 1, 256),
    namespaces: values.namespace === undefined ? undefined : check.namespaces('namespace', values.namespace),
    scopedCachesMaxNamespaces: check.integer('scoped-caches-max-namespaces', values['scoped-caches-max-namespaces'], 0),
    metricsAddr: check.address('metrics-addr', values['metrics-addr']),
    metricsAuth: check.oneOf('metrics-auth', values['metrics-auth'], ['auto', 'kubernetes', 'none']),
    metricsCertDir: check.optionalText('metrics-cert-dir', values['metrics-cert-dir']),
    healthAddr: check.address('health-addr', values['health-addr']),
    leaderElect: values['leader-elect'],
    leaderElectionNamespace: check.text('leader-election-namespace', values['leader-election-namespace'] ?? operatorNamespace),
    leaderElectionId: check.text('leader-election-id', values['leader-election-id']),
    operatorNamespace: check.text('operator-namespace', operatorNamespace),
    hashKeySecret: check.text('hash-key-secret', values['hash-key-secret']),
    identity: check.text('identity', values.identity ?? env['POD_NAME'] ?? `${hostname()}-${randomBytes(3).toString('hex')}`),
    logLevel: check.oneOf('log-level', values['log-level'], ['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
    providerTimeoutMs: check.duration('provider-timeout', values['provider-timeout']),
    errorRequeueMs: check.duration('error-requeue', values['error-requeue']),
    storeRevalidateMs: check.duration('store-revalidate', values['store-revalidate']),
    rollouts: values.rollouts,
    argoRollouts: check.oneOf('argo-rollouts', values['argo-rollouts'], ['auto', 'always', 'never']),
    clusterStores: values['cluster-stores'],
    rolloutWindowMs: check.duration('rollout-window', values['rollout-window']),
    rolloutMinIntervalMs: check.duration('rollout-min-interval', values['rollout-min-interval']),
    maxRolloutsInFlight: check.integer('max-rollouts-in-flight', values['max-rollouts-in-flight'], 1),
    files: filesAddr === undefined ? undefined : {
      addr: check.address('files-addr', filesAddr),
      certDir: check.optionalText('files-cert-dir', values['files-cert-dir']),
      secret: check.text('files-secret', values['files-secret']),
      webhookConfig: check.text('webhook-config', values['webhook-config']),
      hosts: check.hosts('files-hosts', hosts),
      agentUrl: check.httpsUrl('agent-url', values['agent-url'] ?? `https://${hosts[0] ?? ''}`),
      agentImage: check.text('agent-image', values['agent-image'], "is required with --files-addr (the operator's own image)"),
      agentAudience: check.text('agent-audience', values['agent-audience']),
      sizeLimit: check.pattern('files-size-limit', values['files-size-limit'], /^\d+(Ki|Mi|Gi)?$/, 'must be a quantity such as 1Mi'),
    },
  };
  if (check.problems.length > 0) throw new Error(`invalid flags: ${check.problems.join('; ')}`);
  return Object.freeze(config);
}

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ADDRESS = /^([^:]*):(\d{1,5})$/;

/** Checks flag values one by one, collecting a problem per bad flag ("--workers: must be ..."). */
class FlagChecker {
  readonly problems: string[] = [];

  /** A whole number in [min, max]. */
  integer(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const n = Number(text);
    const ok = text.trim() !== '' && Number.isSafeInteger(n) && n >= min && n <= max;
    if (!ok) this.fail(flag, max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`);
    return n;
  }

  /** A duration such as 30s or 1h30m, in milliseconds. */
  duration(flag: string, text: string): number {
    if (!DURATION_PATTERN.test(text)) this.fail(flag, `must be a duration such as 30s, 10m or 1h30m, not '${text}'`);
    return parseDuration(text);
  }

  oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
    if (!(allowed as readonly string[]).includes(text)) this.fail(flag, `must be one of ${allowed.join(', ')}, not '${text}'`);
    return text as T;
  }

  /** Not empty. */
  text(flag: string, text: string, message = 'must not be empty'): string {
    if (text === '') this.fail(flag, message);
    return text;
  }

  optionalText(flag: string, text: string | undefined): string | undefined {
    return text === undefined ? undefined : this.text(flag, text);
  }

  pattern(flag: string, text: string, pattern: RegExp, message: string): string {
    if (!pattern.test(text)) this.fail(flag, message);
    return text;
  }

  /** HOST:PORT; an empty host binds every interface. */
  address(flag: string, text: string): Address {
    if (!ADDRESS.test(text)) this.fail(flag, 'must be HOST:PORT (":8080" binds every interface)');
    const i = text.lastIndexOf(':');
    const host = text.slice(0, i);
    return { host: host === '' ? '0.0.0.0' : host, port: Number(text.slice(i + 1)) };
  }

  /** A comma-separated list of namespace names, without repeats. */
  namespaces(flag: string, text: string): string[] {
    const names = [...new Set(text.split(',').map((n) => n.trim()))];
    const bad = names.filter((n) => n.length > 63 || !NAMESPACE_NAME.test(n));
    if (bad.length > 0) this.fail(flag, `is not a namespace name: ${bad.map((n) => `'${n}'`).join(', ')}`);
    return names;
  }

  hosts(flag: string, hosts: string[]): string[] {
    if (hosts.length === 0) this.fail(flag, 'must name at least one host');
    return hosts;
  }

  httpsUrl(flag: string, text: string): string {
    if (!text.startsWith('https://') || !URL.canParse(text)) this.fail(flag, 'must be an https:// URL');
    return text;
  }

  private fail(flag: string, message: string): void {
    this.problems.push(`--${flag}: ${message}`);
  }
}
