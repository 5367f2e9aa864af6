// The floor: the least any client must do to sync the same ExternalSecrets. It lists the
// ExternalSecrets and stores once (the operator's informers do the same), then, with `workers`
// loops like the operator's workers, sends per ExternalSecret exactly one server-side apply of the
// same Secret (same labels, annotations, owner reference, data) and one merge patch of the same
// status. The provider is the fake one, so its values are computed in memory, as the operator does.
import { createHash, randomBytes } from 'node:crypto';
import { Annotations, API_VERSION, FIELD_MANAGER, Reasons } from '../../src/api/constants.js';
import type { ExternalSecretSpec } from '../../src/api/external-secret.js';
import { formatTime } from '../../src/controllers/conditions.js';
import { buildDesiredSecret, computeDataHash } from '../../src/controllers/external-secret/secret-builder.js';
import { ContentTypes, runPool, type KubeHttp } from './kube-http.js';
import { expectedData, GROUP_PATH, SET_LABEL, type EsRef } from './fixtures.js';

interface EsItem {
  metadata: { name: string; namespace: string; uid: string; generation: number };
  spec: ExternalSecretSpec;
}

interface StoreItem {
  metadata: { name: string; namespace: string; uid: string; generation: number };
}

export interface FloorResult {
  startedAt: number;
  /** When the last status patch was answered. */
  finishedAt: number;
  requests: Record<string, number>;
}

/** Same as the operator's spec version: generation, store uid and generation, force-sync value. */
function specVersion(es: EsItem, store: StoreItem): string {
  return createHash('sha256')
    .update(`${es.metadata.generation}|${store.metadata.uid}|${store.metadata.generation}|`)
    .digest('hex')
    .slice(0, 16);
}

export async function runFloor(http: KubeHttp, set: string, refs: EsRef[], workers: number): Promise<FloorResult> {
  const hashKey = randomBytes(32);
  const byKey = new Map(refs.map((r) => [`${r.namespace}/${r.name}`, r]));
  http.counts.clear();
  const startedAt = Date.now();
  const [{ items: esList }, { items: stores }] = await Promise.all([
    http.listAll<EsItem>(`${GROUP_PATH}/externalsecrets`, { labelSelector: `${SET_LABEL}=${set}` }),
    http.listAll<StoreItem>(`${GROUP_PATH}/secretstores`),
  ]);
  const storeOf = new Map(stores.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  await runPool(esList, workers, async (es) => {
    const { name, namespace, uid, generation } = es.metadata;
    const ref = byKey.get(`${namespace}/${name}`);
    const store = storeOf.get(`${namespace}/${es.spec.secretStoreRef.name}`);
    if (!ref || !store) throw new Error(`floor: no plan or store for ${namespace}/${name}`);
    const values = new Map(Object.entries(expectedData(ref)).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
    const desired = buildDesiredSecret({ name, namespace, spec: es.spec }, values);
    const hash = computeDataHash(hashKey, desired);
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: desired.name,
        namespace,
        labels: desired.labels,
        annotations: { ...desired.annotations, [Annotations.dataHash]: hash },
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'ExternalSecret', name, uid, controller: true, blockOwnerDeletion: true }],
      },
      data: desired.data,
      type: desired.type,
    };
    const q = `fieldManager=${FIELD_MANAGER}`;
    await http.send('PATCH', `/api/v1/namespaces/${namespace}/secrets/${desired.name}?${q}&force=true`, secret, ContentTypes.apply);
    const now = formatTime(new Date());
    const status = {
      refreshTime: now,
      syncedResourceVersion: specVersion(es, store),
      binding: { name: desired.name },
      conditions: [{
        type: 'Ready', status: 'True', reason: Reasons.secretSynced,
        message: `Secret '${desired.name}' is in sync (${Object.keys(desired.data).length} keys)`,
        lastTransitionTime: now, observedGeneration: generation,
      }],
    };
    await http.send('PATCH', `${GROUP_PATH}/namespaces/${namespace}/externalsecrets/${name}/status?${q}`, { status }, ContentTypes.merge);
  });
  const finishedAt = Date.now();
  if (esList.length !== refs.length) throw new Error(`floor: listed ${esList.length} ExternalSecrets, expected ${refs.length}`);
  return { startedAt, finishedAt, requests: Object.fromEntries(http.counts) };
}
