/** Finds the store an ExternalSecret names and checks it may be used from the ExternalSecret's namespace. */
import { Reasons } from '../../api/constants.js';
import type { ExternalSecretSpec } from '../../api/external-secret.js';
import type { ClusterSecretStoreSpec, SecretStoreStatus } from '../../api/secret-store.js';
import { loadApiSchemas } from '../../api/schema-loader.js';
import type { Informer, KubeObject } from '../../kube/kube-port.js';
import type { StoreIdentity } from '../../providers/client-cache.js';
import type { Provider } from '../../providers/provider.js';
import type { ProviderRegistry } from '../../providers/provider-registry.js';
import { findReady } from '../conditions.js';
import { isNamespaceAllowed } from '../secret-store/store-access-policy.js';
import { parseOnce } from '../../api/parse-once.js';

export interface StoreInformers {
  stores: Informer<KubeObject>;
  clusterStores: Informer<KubeObject>;
  namespaces: Informer<KubeObject>;
  /** The operator runs with --no-cluster-stores: no ClusterSecretStore is served. */
  clusterStoresDisabled?: boolean;
}

export type StoreResolution =
  | {
      ok: true;
      store: StoreIdentity;
      spec: ClusterSecretStoreSpec;
      provider: Provider;
      config: unknown;
    }
  | { ok: false; reason: string; message: string };

/**
 * What a store object's spec gives, worked out once per object: the informer replaces the object
 * on every change, so this is per store version, not per reconcile (a fleet of 10,000
 * ExternalSecrets on a few stores parsed and validated the same spec 10,000 times).
 */
interface PreparedStore {
  parsed: ReturnType<typeof ClusterSecretStoreSpec.safeParse>;
  resolved?: Awaited<ReturnType<ProviderRegistry['resolve']>>;
  problems?: string[];
}
const prepared = new WeakMap<KubeObject, Promise<PreparedStore>>();

function prepare(registry: ProviderRegistry, object: KubeObject): Promise<PreparedStore> {
  let result = prepared.get(object);
  if (!result) {
    result = (async () => {
      const parsed = parseOnce((await loadApiSchemas()).ClusterSecretStoreSpec, object['spec']);
      if (!parsed.success) return { parsed };
      const resolved = await registry.resolve(parsed.data.provider);
      return { parsed, resolved, problems: resolved ? resolved.provider.validateConfig(resolved.config) : undefined };
    })();
    result.catch(() => prepared.delete(object)); // a failed load (a provider's module) is tried again
    prepared.set(object, result);
  }
  return result;
}

function describe(kind: string, name: string, namespace?: string): string {
  return kind === 'SecretStore' ? `SecretStore '${name}' in namespace '${namespace}'` : `ClusterSecretStore '${name}'`;
}

export async function resolveStore(
  informers: StoreInformers,
  registry: ProviderRegistry,
  namespace: string,
  ref: ExternalSecretSpec['secretStoreRef'],
): Promise<StoreResolution> {
  const kind = ref.kind ?? 'SecretStore';
  const isCluster = kind === 'ClusterSecretStore';
  const object = isCluster ? informers.clusterStores.get(ref.name) : informers.stores.get(ref.name, namespace);
  const label = describe(kind, ref.name, namespace);
  if (isCluster && informers.clusterStoresDisabled) {
    return {
      ok: false,
      reason: Reasons.storeNotAllowed,
      message: `${label} cannot be used: this operator serves no ClusterSecretStores (--no-cluster-stores); use a SecretStore in namespace '${namespace}'`,
    };
  }
  if (!object) {
    return { ok: false, reason: Reasons.storeNotFound, message: `${label} does not exist; create it or fix spec.secretStoreRef` };
  }
  const { parsed, resolved, problems } = await prepare(registry, object);
  if (!parsed.success) {
    return { ok: false, reason: Reasons.storeNotReady, message: `${label} has an invalid spec; see its status` };
  }
  if (isCluster) {
    const labels = informers.namespaces.get(namespace)?.metadata.labels;
    if (!isNamespaceAllowed(parsed.data.conditions, namespace, labels)) {
      return {
        ok: false,
        reason: Reasons.storeNotAllowed,
        message: `${label} does not allow namespace '${namespace}'; add it to the store's spec.conditions`,
      };
    }
  }
  const ready = findReady((object['status'] as SecretStoreStatus | undefined)?.conditions);
  if (ready?.status === 'False' && ready.observedGeneration === object.metadata.generation) {
    return { ok: false, reason: Reasons.storeNotReady, message: `${label} is not ready: ${ready.message}` };
  }
  if (!resolved) {
    return { ok: false, reason: Reasons.storeNotReady, message: `${label} names no provider this version of Lockstep supports` };
  }
  if (problems && problems.length > 0) {
    return { ok: false, reason: Reasons.storeNotReady, message: `${label} is misconfigured: ${problems.join('; ')}` };
  }
  return {
    ok: true,
    store: {
      kind,
      name: ref.name,
      namespace: isCluster ? undefined : namespace,
      uid: object.metadata.uid ?? '',
      generation: object.metadata.generation ?? 0,
    },
    spec: parsed.data,
    ...resolved,
  };
}
