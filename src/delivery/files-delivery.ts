/**
 * Starts delivery as files in one operator replica: the serving certificate (self-managed in a
 * Secret, or from a directory cert-manager fills), the caBundle of the MutatingWebhookConfiguration,
 * and the HTTPS server for the webhook and the agents. Every replica runs it, leader or not.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { ControllerConfig } from '../config/config.js';
import type { KubeClient } from '../kube/kube-port.js';
import type { Logger } from '../observability/logger.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';
import type { ClientCache } from '../providers/client-cache.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';
import { EventRecorder } from '../controllers/event-recorder.js';
import { AgentAuthenticator } from './agent-authenticator.js';
import { FileSetSource, type FileSetSourceDeps } from './file-set-source.js';
import { FilesServer } from './files-server.js';
import { ensureServingCertificate, injectCaBundle, type ServingCertificate } from './webhook-tls.js';

const CA_RECHECK_MS = 30_000;

export interface FilesDeliveryDeps {
  config: NonNullable<ControllerConfig['files']>;
  operatorNamespace: string;
  kube: KubeClient;
  log: Logger;
  scrubber: SecretScrubber;
  hashKey: Uint8Array;
  informers: FileSetSourceDeps['informers'];
  registry: ProviderRegistry;
  clients: ClientCache;
  providerTimeoutMs: number;
  metrics: Registry;
}

export async function startFilesDelivery(deps: FilesDeliveryDeps): Promise<{ port: number; close(): Promise<void> }> {
  const { config, kube, log } = deps;
  const cert = config.certDir
    ? await readCertificateDir(config.certDir)
    : await ensureServingCertificate(kube, { namespace: deps.operatorNamespace, secretName: config.secret }, config.hosts);
  let recheck: NodeJS.Timeout | undefined;
  if (!config.certDir) {
    const inject = async (quietIfMissing: boolean) => {
      const found = await injectCaBundle(kube, config.webhookConfig, cert.caPem).catch((err: unknown) => {
        log.warn({ err, webhookConfig: config.webhookConfig }, 'cannot set the caBundle of the MutatingWebhookConfiguration');
        return true;
      });
      if (!found && !quietIfMissing) log.warn({ webhookConfig: config.webhookConfig }, 'MutatingWebhookConfiguration not found: pods will not be injected until it exists (install it with the chart)');
    };
    await inject(false);
    // A re-applied configuration (helm upgrade, GitOps sync) may come without the caBundle: put it back.
    recheck = setInterval(() => void inject(true), CA_RECHECK_MS).unref();
  }
  const server = new FilesServer({
    fileSets: new FileSetSource(deps),
    authenticator: new AgentAuthenticator({ kube, audience: config.agentAudience }),
    events: new EventRecorder({ kube, log, scrubber: deps.scrubber }),
    log,
    injector: { agentImage: config.agentImage, serverUrl: config.agentUrl, caPem: cert.caPem, audience: config.agentAudience, sizeLimit: config.sizeLimit },
    metrics: {
      requests: new Counter({
        name: 'lockstep_files_requests_total',
        help: 'Requests to the files endpoint (webhook and agents), by endpoint and HTTP status',
        labelNames: ['endpoint', 'code'],
        registers: [deps.metrics],
      }),
    },
  });
  const { port } = await server.listen(cert, config.addr.host, config.addr.port);
  log.info({ addr: `${config.addr.host}:${port}`, hosts: config.hosts, agentUrl: config.agentUrl }, 'serving the injection webhook and the agents');
  return {
    port,
    close: () => {
      clearInterval(recheck);
      return server.close();
    },
  };
}

async function readCertificateDir(dir: string): Promise<ServingCertificate> {
  const [certPem, keyPem, caPem] = await Promise.all(['tls.crt', 'tls.key', 'ca.crt'].map((f) => readFile(join(dir, f), 'utf8')));
  return { certPem: certPem as string, keyPem: keyPem as string, caPem: caPem as string };
}
