/**
 * Reconciles SecretStores and ClusterSecretStores: validates the provider config, opens (and caches)
 * the client, checks it works, and reports Ready. Status is written only when it changes.
 */
import { Reasons } from '../../api/constants.js';
import { loadApiSchemas } from '../../api/schema-loader.js';
import type { Informer, KubeClient, KubeObject, Resource } from '../../kube/kube-port.js';
import type { Clock } from '../../runtime/clock.js';
import type { ClientCache } from '../../providers/client-cache.js';
import type { ProviderRegistry } from '../../providers/provider-registry.js';
import { isProviderError } from '../../providers/provider-errors.js';
import { findEndpointRefusal } from '../../providers/store-network.js';
import { buildConditions, isTransition, type ReadyState } from '../conditions.js';
import type { EventRecorder } from '../event-recorder.js';
import type { SecretScrubber } from '../../observability/secret-scrubber.js';

export interface SecretStoreReconcilerDeps {
  kube: KubeClient;
  kind: 'SecretStore' | 'ClusterSecretStore';
  resource: Resource;
  informer: Informer<KubeObject>;
  registry: ProviderRegistry;
  clients: ClientCache;
  events: EventRecorder;
  scrubber: SecretScrubber;
  clock: Clock;
  options: { providerTimeoutMs: number; revalidateMs: number };
}

export class SecretStoreReconciler {
  constructor(private readonly deps: SecretStoreReconcilerDeps) {}

  async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const [namespace, name] = key.includes('/') ? key.split('/') : [undefined, key];
    const store = this.deps.informer.get(name as string, namespace);
    if (!store) {
      this.deps.clients.evict({ kind: this.deps.kind, name: name as string, namespace });
      return {};
    }
    const { ready, transient } = await this.validate(store, name as string, namespace);
    await this.updateStatus(store, { ...ready, message: this.deps.scrubber.scrub(ready.message) });
    // A failure that may heal by itself (a timeout, throttling, an outage) is retried with the
    // queue's backoff, not left for the next revalidation ten minutes later.
    if (transient) throw transient;
    return { requeueAfterMs: this.deps.options.revalidateMs };
  }

  private async validate(store: KubeObject, name: string, namespace: string | undefined): Promise<{ ready: ReadyState; transient?: Error }> {
    try {
      return { ready: await this.check(store, name, namespace) };
    } catch (err) {
      // Something this kind of store may not ask for (see tenant-policy.ts), however deep a provider wrapped it.
      const notAllowed = findEndpointRefusal(err);
      if (notAllowed) return { ready: { status: 'False', reason: notAllowed.reason, message: notAllowed.message } };
      const ready: ReadyState = { status: 'False', reason: Reasons.validationFailed, message: `the provider rejected the store: ${(err as Error).message}` };
      return { ready, transient: isTransient(err) ? (err as Error) : undefined };
    }
  }

  /** The store's Ready state; throws what the provider's validation threw. */
  private async check(store: KubeObject, name: string, namespace: string | undefined): Promise<ReadyState> {
    const parsed = (await loadApiSchemas()).ClusterSecretStoreSpec.safeParse(store['spec']);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; ');
      return { status: 'False', reason: Reasons.invalidConfig, message: `spec is invalid: ${detail}` };
    }
    const resolved = await this.deps.registry.resolve(parsed.data.provider);
    if (!resolved) {
      return { status: 'False', reason: Reasons.invalidConfig, message: 'spec.provider names no provider this version of Lockstep supports' };
    }
    const problems = resolved.provider.validateConfig(resolved.config);
    if (problems.length > 0) {
      return { status: 'False', reason: Reasons.invalidConfig, message: `spec.provider.${resolved.provider.name}: ${problems.join('; ')}` };
    }
    const identity = {
      kind: this.deps.kind,
      name,
      namespace,
      uid: store.metadata.uid ?? '',
      generation: store.metadata.generation ?? 0,
    };
    const client = await this.deps.clients.get(identity, resolved.provider, resolved.config, parsed.data.rateLimit);
    await client.validate({ signal: AbortSignal.timeout(this.deps.options.providerTimeoutMs) });
    return { status: 'True', reason: Reasons.storeValid, message: `store is valid (provider ${resolved.provider.name})` };
  }

  private async updateStatus(store: KubeObject, ready: ReadyState): Promise<void> {
    const parsed = (await loadApiSchemas()).SecretStoreStatus.safeParse(store['status'] ?? {}).data;
    const previous = parsed?.conditions;
    const generation = store.metadata.generation;
    const old = previous?.find((c) => c.type === 'Ready');
    const same = old?.message === ready.message && old.observedGeneration === generation && parsed?.observedGeneration === generation;
    if (!isTransition(previous, ready) && same) return;
    const conditions = buildConditions(previous, ready, generation, new Date(this.deps.clock.now()));
    await this.deps.kube.patch(this.deps.resource, store.metadata.name as string, store.metadata.namespace,
      { status: { observedGeneration: generation, conditions } }, { subresource: 'status' });
    if (isTransition(previous, ready) && (ready.status === 'False' || (previous?.length ?? 0) > 0)) {
      await this.deps.events.record(store, ready.status === 'True' ? 'Normal' : 'Warning', ready.reason, ready.message);
    }
  }
}

/** Errors that may heal without a change to the store: transient provider errors and deadlines. */
function isTransient(err: unknown): boolean {
  if (isProviderError(err)) return err.errorClass === 'Transient';
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}
