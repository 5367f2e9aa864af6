/** The operator's flags (and env fallbacks), parsed once with zod into a frozen config. Fails fast. */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { Duration, parseDuration } from '../api/common.js';

const Address = z
  .string()
  .regex(/^([^:]*):(\d{1,5})$/, 'must be HOST:PORT (":8080" binds every interface)')
  .transform((text) => {
    const i = text.lastIndexOf(':');
    const host = text.slice(0, i);
    return { host: host === '' ? '0.0.0.0' : host, port: Number(text.slice(i + 1)) };
  });

const ControllerConfig = z.object({
  kubeconfig: z.string().optional(),
  workers: z.coerce.number().int().min(1).max(256),
  /** Namespaces to watch; undefined: all. */
  namespaces: z.array(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'is not a namespace name').max(63)).min(1).optional(),
  metricsAddr: Address,
  /** Who may read /metrics: "kubernetes" (TokenReview + SubjectAccessReview), "none", or "auto" (kubernetes unless bound to loopback). */
  metricsAuth: z.enum(['auto', 'kubernetes', 'none']),
  /** tls.crt and tls.key for /metrics over HTTPS; without it an authenticated /metrics gets a self-signed certificate. */
  metricsCertDir: z.string().min(1).optional(),
  healthAddr: Address,
  leaderElect: z.boolean(),
  leaderElectionNamespace: z.string().min(1),
  leaderElectionId: z.string().min(1),
  operatorNamespace: z.string().min(1),
  hashKeySecret: z.string().min(1),
  identity: z.string().min(1),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
  providerTimeoutMs: Duration.transform(parseDuration),
  errorRequeueMs: Duration.transform(parseDuration),
  storeRevalidateMs: Duration.transform(parseDuration),
  rollouts: z.boolean(),
  /** Restart Argo Rollouts too: "auto" when their CRD is installed (a cluster-wide get), or always/never. */
  argoRollouts: z.enum(['auto', 'always', 'never']),
  /**
   * Serve ClusterSecretStores (a cluster-wide list/watch of them and of Namespaces). Off, the
   * operator needs no cluster-scoped right at all with --namespace (namespaced Roles only).
   */
  clusterStores: z.boolean(),
  rolloutWindowMs: Duration.transform(parseDuration),
  rolloutMinIntervalMs: Duration.transform(parseDuration),
  maxRolloutsInFlight: z.coerce.number().int().min(1),
  files: z
    .object({
      addr: Address,
      certDir: z.string().min(1).optional(),
      secret: z.string().min(1),
      webhookConfig: z.string().min(1),
      hosts: z.array(z.string().min(1)).min(1),
      agentUrl: z.string().url().startsWith('https://', 'must be an https:// URL'),
      agentImage: z.string().min(1, 'is required with --files-addr (the operator\'s own image)'),
      agentAudience: z.string().min(1),
      sizeLimit: z.string().regex(/^\d+(Ki|Mi|Gi)?$/, 'must be a quantity such as 1Mi'),
    })
    .optional(),
});
export type ControllerConfig = Readonly<z.infer<typeof ControllerConfig>>;

export const CONTROLLER_HELP = `usage: lockstep controller [flags]

  --kubeconfig PATH                 kubeconfig to use (default: in-cluster service account)
  --workers N                       concurrent reconciles (default 10)
  --namespace NS[,NS...]            watch only these namespaces (default: all)
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
  const hosts = values['files-hosts']?.split(',').map((h) => h.trim()).filter(Boolean)
    ?? [`lockstep-webhook.${operatorNamespaceOf(values, env)}.svc`, `lockstep-webhook.${operatorNamespaceOf(values, env)}.svc.cluster.local`];
  const operatorNamespace = values['operator-namespace'] ?? env['POD_NAMESPACE'] ?? 'lockstep-system';
  const parsed = ControllerConfig.safeParse({
    kubeconfig: values.kubeconfig ?? env['KUBECONFIG_PATH'],
    workers: values.workers,
    namespaces: values.namespace === undefined ? undefined : [...new Set(values.namespace.split(',').map((n) => n.trim()))],
    metricsAddr: values['metrics-addr'],
    metricsAuth: values['metrics-auth'],
    metricsCertDir: values['metrics-cert-dir'],
    healthAddr: values['health-addr'],
    leaderElect: values['leader-elect'],
    leaderElectionNamespace: values['leader-election-namespace'] ?? operatorNamespace,
    leaderElectionId: values['leader-election-id'],
    operatorNamespace,
    hashKeySecret: values['hash-key-secret'],
    identity: values.identity ?? env['POD_NAME'] ?? `${hostname()}-${randomBytes(3).toString('hex')}`,
    logLevel: values['log-level'],
    providerTimeoutMs: values['provider-timeout'],
    errorRequeueMs: values['error-requeue'],
    storeRevalidateMs: values['store-revalidate'],
    rollouts: values.rollouts,
    argoRollouts: values['argo-rollouts'],
    clusterStores: values['cluster-stores'],
    rolloutWindowMs: values['rollout-window'],
    rolloutMinIntervalMs: values['rollout-min-interval'],
    maxRolloutsInFlight: values['max-rollouts-in-flight'],
    files: values['files-addr'] === undefined ? undefined : {
      addr: values['files-addr'],
      certDir: values['files-cert-dir'],
      secret: values['files-secret'],
      webhookConfig: values['webhook-config'],
      hosts,
      agentUrl: values['agent-url'] ?? `https://${hosts[0] ?? ''}`,
      agentImage: values['agent-image'],
      agentAudience: values['agent-audience'],
      sizeLimit: values['files-size-limit'],
    },
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `--${flagOf(String(i.path[0]))}: ${i.message}`);
    throw new Error(`invalid flags: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}

function operatorNamespaceOf(values: { 'operator-namespace'?: string }, env: NodeJS.ProcessEnv): string {
  return values['operator-namespace'] ?? env['POD_NAMESPACE'] ?? 'lockstep-system';
}

/** The flag a config field comes from (`providerTimeoutMs` from --provider-timeout). */
function flagOf(field: string): string {
  if (field === 'namespaces') return 'namespace';
  if (field === 'files') return 'files-addr (and the other delivery flags)';
  return field.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
