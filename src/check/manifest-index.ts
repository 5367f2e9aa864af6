/** The Lockstep objects (and Namespaces) found in a set of manifests, indexed for reference checks. */
import type { FieldPath, ManifestDocument } from './manifest-reader.js';

export interface ObjectRef {
  doc: ManifestDocument;
  apiVersion: string;
  kind: string;
  name: string;
  /** metadata.namespace, else the --namespace default; undefined when neither is known. */
  namespace: string | undefined;
  spec: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export interface ManifestIndex {
  objects: ObjectRef[];
  secretStores: ObjectRef[];
  clusterStores: Map<string, ObjectRef>;
  /** Labels of the Namespaces found in the files, by name. */
  namespaceLabels: Map<string, Record<string, string>>;
}

export const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export function toObjectRef(doc: ManifestDocument, defaultNamespace: string | undefined): ObjectRef | undefined {
  const obj = asRecord(doc.object);
  if (typeof obj.kind !== 'string' || typeof obj.apiVersion !== 'string') return undefined;
  const metadata = asRecord(obj.metadata);
  return {
    doc,
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: typeof metadata.name === 'string' ? metadata.name : '',
    namespace: typeof metadata.namespace === 'string' ? metadata.namespace : defaultNamespace,
    spec: asRecord(obj.spec),
    metadata,
  };
}

export function buildIndex(objects: ObjectRef[], isLockstep: (o: ObjectRef) => boolean): ManifestIndex {
  const index: ManifestIndex = { objects, secretStores: [], clusterStores: new Map(), namespaceLabels: new Map() };
  for (const o of objects) {
    if (o.kind === 'Namespace' && o.apiVersion === 'v1') {
      const labels = asRecord(o.metadata.labels) as Record<string, string>;
      index.namespaceLabels.set(o.name, { ...labels, 'kubernetes.io/metadata.name': o.name });
    }
    if (!isLockstep(o)) continue;
    if (o.kind === 'SecretStore') index.secretStores.push(o);
    if (o.kind === 'ClusterSecretStore') index.clusterStores.set(o.name, o);
  }
  return index;
}

export const specPath = (...rest: FieldPath): FieldPath => ['spec', ...rest];
