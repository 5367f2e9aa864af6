/** `lockstep controller`: runs the operator until SIGTERM/SIGINT. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CONTROLLER_HELP, parseControllerConfig, type ControllerConfig } from '../config/config.js';
import { Manager } from '../controllers/manager.js';
import { fetchOrCreateHashKey } from '../controllers/hash-key.js';
import { buildCredentialSource } from '../controllers/credential-source.js';
import { createKubeClient, type KubeClientHandle } from '../kube/kube-client.js';
import { ApiserverAudiences, discoverApiserverAddresses, readApiserverMembers } from '../controllers/secret-store/apiserver-facts.js';
import { EndpointPolicy, isLoopbackAddress } from '../providers/endpoint-policy.js';
import { buildMetricsAuthorizer } from '../observability/metrics-auth.js';
import type { TenantPolicy } from '../providers/tenant-policy.js';
import { createInformer } from '../kube/resilient-informer.js';
import { buildLogger, type Logger } from '../observability/logger.js';
import { buildCacheScopeMetrics, buildExternalSecretStatusMetrics, buildRefreshMetrics, buildRolloutMetrics, buildScrubberMetrics, buildSyncMetrics } from '../observability/metrics.js';
import { SecretScrubber } from '../observability/secret-scrubber.js';
import { ClientCache } from '../providers/client-cache.js';
import { buildDefaultRegistry } from '../providers/provider-registry.js';
import { systemClock } from '../runtime/clock.js';
import { startHealthServer, type HealthServer } from '../runtime/health-server.js';
import { LeaderElector } from '../runtime/leader-election.js';
import { enableMemorySaverWhenCaughtUp } from '../runtime/memory-saver.js';
import { CoreResources, type KubeClient } from '../kube/kube-port.js';
import type { WorkloadKind } from '../api/external-secret.js';
import { buildRuntimeMetrics } from '../runtime/metrics.js';

export async function runControllerCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(CONTROLLER_HELP);
    return 0;
  }
  const config = parseControllerConfig(args);
  const scrubber = new SecretScrubber();
  const log = buildLogger({ level: config.logLevel, scrubber });
  const stop = new AbortController();
  const onSignal = (signal: string) => {
    log.info({ signal }, 'shutting down');
    stop.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    return await runOperator(config, log, scrubber, stop.signal);
  } catch (err) {
    log.fatal({ err }, 'the operator stopped on an error');
    return 1;
  } finally {
    log.flush();
  }
}

async function runOperator(config: ControllerConfig, log: Logger, scrubber: SecretScrubber, signal: AbortSignal): Promise<number> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lockstep_' });
  const syncMetrics = buildSyncMetrics(registry);
  buildScrubberMetrics(registry, () => scrubber.size);
  const runtimeMetrics = buildRuntimeMetrics(registry);
  const kube = createKubeClient({
    kubeconfigPath: config.kubeconfig,
    fieldManager: 'lockstep',
    reportingInstance: config.identity,
    metrics: { onRequest: (verb, resource, code) => syncMetrics.kubeRequests.inc({ verb, resource, code: String(code) }) },
  });
  const hashKey = await fetchOrCreateHashKey(kube, config.operatorNamespace, config.hashKeySecret).catch((err: unknown) => {
    throw new Error(
      `cannot read or create the hash key Secret '${config.operatorNamespace}/${config.hashKeySecret}' ` +
        `(does namespace '${config.operatorNamespace}' exist? set --operator-namespace): ${(err as Error).message}`,
    );
  });
  const providers = buildDefaultRegistry();
  const tenant = await buildTenantPolicy(kube, log);
  const clients = new ClientCache({
    log,
    scrubber,
    metrics: syncMetrics,
    clock: systemClock,
    credentialsFor: (store) => buildCredentialSource(kube, scrubber, store, { apiserverAudiences: tenant.apiserverAudiences }),
    tenant,
  });
  const manager = new Manager({
    kube: kube,
    informerFactory: (res, opts) => createInformer(kube, res, { ...opts, log }),
    registry: providers,
    clients,
    clock: systemClock,
    log,
    scrubber,
    syncMetrics,
    runtimeMetrics,
    rolloutMetrics: buildRolloutMetrics(registry),
    hashKey,
    workloadKinds: await detectWorkloadKinds(kube, config, log),
    options: {
      ...config,
      namespaces: config.namespaces,
      rollout: { windowMs: config.rolloutWindowMs, minIntervalMs: config.rolloutMinIntervalMs, maxInFlight: config.maxRolloutsInFlight },
    },
  });
  buildExternalSecretStatusMetrics(registry, () => manager.informers.externalSecrets.list());
  buildRefreshMetrics(registry, () => manager.refreshRounds());
  buildCacheScopeMetrics(registry, () => manager.cacheScope());
  const servers = await startServers(config, registry, () => manager.hasSynced(), kube);
  try {
    if (config.files) {
      // Loaded only when delivery as files is on (it brings the certificate library).
      const { startFilesDelivery } = await import('../delivery/files-delivery.js');
      servers.push(await startFilesDelivery({
        config: config.files, operatorNamespace: config.operatorNamespace, kube, log, scrubber, hashKey,
        informers: manager.informers, registry: providers, clients, providerTimeoutMs: config.providerTimeoutMs, metrics: registry,
      }));
    }
    await manager.startInformers();
    log.info({ namespaces: config.namespaces?.join(',') ?? '(all)', identity: config.identity }, 'caches synced');
    return await lead(config, manager, kube, log, signal);
  } finally {
    manager.shutdown();
    manager.stopInformers();
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** How often the API server's addresses are learnt again (control-plane members come and go). */
const APISERVER_ADDRESSES_REFRESH_MS = 10 * 60_000;

/**
 * What a store may ask for: endpoints judged against the API server's addresses (learnt again
 * every 10 minutes), token audiences against its own.
 */
async function buildTenantPolicy(kube: KubeClientHandle, log: Logger): Promise<TenantPolicy> {
  const server = kube.kubeConfig.getCurrentCluster()?.server ?? '';
  const audiences = new ApiserverAudiences({ fetchDiscovery: () => kube.getPath('/.well-known/openid-configuration'), log });
  const learn = async () => new EndpointPolicy(await discoverApiserverAddresses(
    server, process.env, undefined, undefined, () => readApiserverMembers((path) => kube.getPath(path), log),
  ));
  let endpoints = await learn();
  setInterval(() => {
    learn().then((next) => (endpoints = next), (err: unknown) => log.warn({ err: String(err) }, 'learning the API server addresses again failed'));
  }, APISERVER_ADDRESSES_REFRESH_MS).unref();
  return {
    get endpoints() {
      return endpoints;
    },
    apiserverAudiences: () => audiences.get(),
  };
}

/** Runs the controllers while this replica leads. Losing the lease ends the process (exit 1) so a fresh start re-syncs. */
async function lead(config: ControllerConfig, manager: Manager, kube: KubeClient, log: Logger, signal: AbortSignal): Promise<number> {
  const run = (runSignal: AbortSignal) => {
    enableMemorySaverWhenCaughtUp({
      backlog: () => manager.queueDepth(),
      onEnabled: () => log.info('caught up with the ExternalSecrets: V8 memory saver mode on'),
    }, runSignal);
    return manager.run(runSignal);
  };
  if (!config.leaderElect) {
    await run(signal);
    return 0;
  }
  let lost = false;
  const elector = new LeaderElector({
    kube,
    namespace: config.leaderElectionNamespace,
    name: config.leaderElectionId,
    identity: config.identity,
    clock: systemClock,
    log,
  });
  await elector.run(signal, {
    onStartedLeading: async (leaderSignal) => {
      log.info('became leader');
      await run(leaderSignal);
    },
    onStoppedLeading: () => {
      lost = !signal.aborted;
      if (lost) log.error('lost leadership; exiting so a fresh start re-syncs');
    },
  });
  return lost ? 1 : 0;
}

/** Deployments, StatefulSets and DaemonSets always; Argo Rollouts when --argo-rollouts says so or (auto) their CRD is installed. */
async function detectWorkloadKinds(kube: KubeClient, config: ControllerConfig, log: Logger): Promise<WorkloadKind[]> {
  if (!config.rollouts) return [];
  const kinds: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
  if (config.argoRollouts !== 'auto') return config.argoRollouts === 'always' ? [...kinds, 'Rollout'] : kinds;
  const rolloutsCrd = await kube.get(CoreResources.customResourceDefinition, 'rollouts.argoproj.io').catch((err: unknown) => {
    log.warn({ err }, 'cannot check for the Argo Rollouts CRD; Rollouts will not be restarted');
    return undefined;
  });
  if (rolloutsCrd) kinds.push('Rollout');
  return kinds;
}

/**
 * Probes on the health address, always open; /metrics on the metrics address (and only there, unless
 * both are one), behind a TokenReview + SubjectAccessReview unless --metrics-auth says otherwise.
 */
async function startServers(config: ControllerConfig, registry: Registry, synced: () => boolean, kube: KubeClientHandle): Promise<HealthServer[]> {
  const checks = { healthz: () => true, readyz: { informers: synced } };
  const auth = config.metricsAuth === 'auto' ? (isLoopbackAddress(config.metricsAddr.host) ? 'none' : 'kubernetes') : config.metricsAuth;
  const metricsAuth = auth === 'kubernetes' ? buildMetricsAuthorizer(kube) : undefined;
  const sameAddress = config.metricsAddr.host === config.healthAddr.host && config.metricsAddr.port === config.healthAddr.port;
  const health = await startHealthServer({
    host: config.healthAddr.host, port: config.healthAddr.port, registry, checks, serveMetrics: sameAddress, metricsAuth,
  });
  if (sameAddress) return [health];
  // A bearer token is sent only over TLS (probes, on their own address, stay plain HTTP for the kubelet).
  const tls = metricsAuth ? await metricsCertificate(config) : undefined;
  const metrics = await startHealthServer({ host: config.metricsAddr.host, port: config.metricsAddr.port, registry, checks, metricsAuth, tls });
  return [health, metrics];
}

/** The metrics server's certificate: from --metrics-cert-dir, else self-signed at start (scrapers skip verification, as for controller-runtime's). */
async function metricsCertificate(config: ControllerConfig): Promise<{ cert: string; key: string }> {
  if (config.metricsCertDir) {
    const [cert, key] = await Promise.all(['tls.crt', 'tls.key'].map((f) => readFile(join(config.metricsCertDir as string, f), 'utf8')));
    return { cert: cert as string, key: key as string };
  }
  const { issueServingCertificate } = await import('../delivery/webhook-tls.js');
  const issued = await issueServingCertificate(['lockstep-metrics', 'localhost', '127.0.0.1']);
  return { cert: issued.certPem, key: issued.keyPem };
}
