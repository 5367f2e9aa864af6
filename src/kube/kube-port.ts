/**
 * The port through which the rest of Lockstep talks to the Kubernetes API.
 * Only `src/kube/` imports `@kubernetes/client-node`; everything else depends on these types.
 */

/** Describes one REST resource: enough to build its URL path. */
export interface Resource {
  readonly group: string; // '' for the core group
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface ObjectMeta {
  name?: string;
  /** Prefix for a server-generated name (create only). */
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ApplyOptions {
  /** Take ownership of fields managed by others (server-side apply `force`). */
  force?: boolean;
  subresource?: 'status';
}

export interface PatchOptions {
  subresource?: 'status';
  /** 'merge' = application/merge-patch+json (default), 'json' = application/json-patch+json */
  type?: 'merge' | 'json';
}

export interface DeleteOptions {
  /** Precondition: delete only if the object still has this uid. */
  uid?: string;
  resourceVersion?: string;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
}

export interface EventInput {
  /** The object the event is about. */
  regarding: { apiVersion: string; kind: string; name: string; namespace?: string; uid?: string };
  type: 'Normal' | 'Warning';
  reason: string;
  /** Human message. Never contains a secret value. */
  message: string;
  action: string;
}

/** Typed, promise-based access to the API server. Errors are mapped to `src/kube/kube-errors.ts`. */
export interface KubeClient {
  get<T extends KubeObject>(res: Resource, name: string, namespace?: string): Promise<T | undefined>;
  list<T extends KubeObject>(res: Resource, opts?: ListOptions): Promise<{ items: T[]; resourceVersion: string }>;
  create<T extends KubeObject>(res: Resource, obj: T): Promise<T>;
  /** Server-side apply with the client's field manager (`lockstep`). `obj` must carry apiVersion/kind/name. */
  apply<T extends KubeObject>(res: Resource, obj: T, opts?: ApplyOptions): Promise<T>;
  patch<T extends KubeObject>(res: Resource, name: string, namespace: string | undefined, patch: unknown, opts?: PatchOptions): Promise<T>;
  replace<T extends KubeObject>(res: Resource, obj: T): Promise<T>;
  delete(res: Resource, name: string, namespace?: string, opts?: DeleteOptions): Promise<void>;
  createEvent(ev: EventInput): Promise<void>;
  /** A ServiceAccount token from the TokenRequest API (`serviceaccounts/token` create). */
  createToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken>;
}

export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
}

export interface IssuedToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** A cache of one resource kept current by list+watch; see `resilient-informer.ts`. */
export interface Informer<T extends KubeObject> {
  /** Resolves after the first successful list; the cache is then usable. */
  start(): Promise<void>;
  stop(): void;
  /** True once the initial list has completed (and stays true across relists). */
  hasSynced(): boolean;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
  /** Handlers receive the key `namespace/name` (or `name` for cluster-scoped) of changed objects. */
  on(event: 'add' | 'update' | 'delete', handler: (obj: T, old?: T) => void): void;
}

/** A cache of a kind the operator does not watch (turned off by a flag): synced at once, always empty. */
export function emptyInformer<T extends KubeObject>(): Informer<T> {
  return {
    start: () => Promise.resolve(),
    stop: () => undefined,
    hasSynced: () => true,
    get: () => undefined,
    list: () => [],
    on: () => undefined,
  };
}

export function objectKey(meta: ObjectMeta): string {
  // join, not a template: a flat string. A template makes a cons string, a 32-byte wrapper in
  // front of the two parts, held by every queue, map and tracker keyed by it.
  return meta.namespace ? [meta.namespace, meta.name].join('/') : `${meta.name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export const CoreResources = {
  secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  namespace: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  serviceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  event: { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  customResourceDefinition: {
    group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition', namespaced: false,
  },
} as const satisfies Record<string, Resource>;
