import { hostname } from 'node:os';
import { buildEvent } from './event-builder.js';
import { loadKubeAccess } from './kube-access.js';
import { NotFoundError } from './kube-errors.js';
import { dropBulkMetadata } from './informer-cache.js';
import { buildApiVersion, buildQuery, buildResourceLabel, buildResourcePath, describeTarget } from './kube-paths.js';
import {
  CoreResources,
  type ApplyOptions, type DeleteOptions, type EventInput, type KubeClient, type KubeObject, type ListOptions,
  type IssuedToken, type PatchOptions, type Resource, type TokenRequestSpec,
} from './kube-port.js';
import { KubeTransport, type HttpVerb, type KubeRequestMetrics } from './kube-transport.js';
import { watchResource, type WatchEvent, type WatchOptions } from './kube-watch.js';

export interface KubeClientOptions {
  /** Path of a kubeconfig file; without it the in-cluster ServiceAccount configuration is used. */
  kubeconfigPath?: string;
  /** Field manager of every write (server-side apply, create, update, patch). */
  fieldManager: string;
  metrics?: KubeRequestMetrics;
  userAgent?: string;
  /** `reportingInstance` of the Events we write (default: the host name, i.e. the pod name). */
  reportingInstance?: string;
  /** Deadline of each non-watch request (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * Page size of list requests (default 100). Smaller than client-go's 500 on purpose: a page is
   * parsed whole before the cache trims it, and with 500 Deployments a page the first lists of a big
   * cluster left the process ~110 MB larger for good; with 100, ~35 MB (make bench-unrelated).
   */
  listPageSize?: number;
  /** Time source for event timestamps (default `Date.now`). */
  now?: () => number;
}

export interface ListRequestOptions extends ListOptions {
  signal?: AbortSignal;
  /** Ask for PartialObjectMetadata items (labels, annotations, ...) instead of full objects. */
  metadataOnly?: boolean;
  /** Applied to each item as its page arrives (managedFields are dropped first). */
  transform?: (obj: KubeObject) => KubeObject;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** What an informer needs: paginated list and watch. */
export interface ListWatchSource {
  list<T extends KubeObject>(res: Resource, opts?: ListRequestOptions): Promise<ListResult<T>>;
  watch<T extends KubeObject>(
    res: Resource, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal,
  ): Promise<void>;
}

/** The `KubeClient` port plus what the informer factory and the entry point need. */
export interface KubeClientHandle extends KubeClient, ListWatchSource {
  /** The same object, typed as the port: pass this to code that should only see `KubeClient`. */
  readonly client: KubeClient;
  /** The API server's URL. */
  readonly server: string;
  /** @deprecated use `server`; kept for callers written against client-node's KubeConfig. */
  readonly kubeConfig: { getCurrentCluster(): { server: string } | null };
  list<T extends KubeObject>(res: Resource, opts?: ListRequestOptions): Promise<ListResult<T>>;
  /** GET of a path outside the resource API (e.g. `/.well-known/openid-configuration`), as parsed JSON. */
  getPath<T>(path: string): Promise<T>;
  /** Releases pooled connections (call after every informer using this client has stopped). */
  close(): Promise<void>;
}

const DEFAULT_LIST_PAGE_SIZE = 100;
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const CONTENT_TYPES = {
  apply: 'application/apply-patch+yaml',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
} as const;

export function createKubeClient(opts: KubeClientOptions): KubeClientHandle {
  const access = loadKubeAccess(opts.kubeconfigPath);
  const transport = new KubeTransport(access, {
    metrics: opts.metrics, userAgent: opts.userAgent, requestTimeoutMs: opts.requestTimeoutMs, kubeconfigPath: opts.kubeconfigPath,
  });
  return new RestKubeClient(transport, opts);
}

interface ListBody {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[] | null;
}

class RestKubeClient implements KubeClientHandle {
  readonly client: KubeClient = this;
  readonly server: string;
  readonly kubeConfig: { getCurrentCluster(): { server: string } | null };

  constructor(private readonly transport: KubeTransport, private readonly opts: KubeClientOptions) {
    this.server = transport.server;
    const cluster = { server: this.server };
    this.kubeConfig = { getCurrentCluster: () => cluster };
  }

  async get<T extends KubeObject>(res: Resource, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.send<T>('get', 'GET', res, { name, namespace });
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(res: Resource, opts: ListRequestOptions = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    do {
      const page = await this.fetchListPage(res, opts, token);
      for (const item of page.items ?? []) {
        const typed = withTypeMeta(res, item, opts.metadataOnly);
        if (opts.transform) dropBulkMetadata(typed);
        items.push((opts.transform ? opts.transform(typed) : typed) as T);
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token);
    return { items, resourceVersion };
  }

  async watch<T extends KubeObject>(
    res: Resource, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal,
  ): Promise<void> {
    await watchResource(this.transport, res, opts, onEvent, signal);
  }

  async create<T extends KubeObject>(res: Resource, obj: T): Promise<T> {
    const namespace = requireNamespace(res, obj.metadata.namespace, obj.metadata.name ?? obj.metadata.generateName);
    const body = withTypeMeta(res, obj);
    return this.send<T>('create', 'POST', res, { namespace, target: obj.metadata.name, body, write: true });
  }

  async apply<T extends KubeObject>(res: Resource, obj: T, opts: ApplyOptions = {}): Promise<T> {
    const { name, namespace } = obj.metadata;
    return this.send<T>('apply', 'PATCH', res, {
      name, namespace, subresource: opts.subresource, body: buildApplyBody(res, obj),
      contentType: CONTENT_TYPES.apply, write: true, query: { force: opts.force ? 'true' : undefined },
    });
  }

  async patch<T extends KubeObject>(
    res: Resource, name: string, namespace: string | undefined, patch: unknown, opts: PatchOptions = {},
  ): Promise<T> {
    return this.send<T>('patch', 'PATCH', res, {
      name, namespace, subresource: opts.subresource, body: patch,
      contentType: CONTENT_TYPES[opts.type ?? 'merge'], write: true,
    });
  }

  async replace<T extends KubeObject>(res: Resource, obj: T): Promise<T> {
    const { name, namespace } = obj.metadata;
    return this.send<T>('update', 'PUT', res, { name, namespace, body: withTypeMeta(res, obj), write: true });
  }

  /** Deleting an object that is already gone succeeds. */
  async delete(res: Resource, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<void> {
    try {
      await this.send('delete', 'DELETE', res, { name, namespace, body: buildDeleteBody(opts) });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  async createEvent(ev: EventInput): Promise<void> {
    const reportingInstance = this.opts.reportingInstance ?? hostname();
    const now = this.opts.now?.() ?? Date.now();
    await this.create(CoreResources.event, buildEvent(ev, reportingInstance, now));
  }

  async createToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken> {
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: spec.audiences ?? [], expirationSeconds: spec.expirationSeconds },
    };
    const issued = await this.send<{ status: { token: string; expirationTimestamp: string } }>(
      'create', 'POST', CoreResources.serviceAccount, { name: serviceAccount, namespace, subresource: 'token', body, write: true },
    );
    return { token: issued.status.token, expiresAt: Date.parse(issued.status.expirationTimestamp) };
  }

  getPath<T>(path: string): Promise<T> {
    return this.transport.request<T>({ verb: 'get', method: 'GET', path, resource: path, target: path });
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  private async fetchListPage(res: Resource, opts: ListRequestOptions, token: string | undefined): Promise<ListBody> {
    const query = buildQuery({
      labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      limit: this.opts.listPageSize ?? DEFAULT_LIST_PAGE_SIZE, continue: token,
    });
    return this.transport.request<ListBody>({
      verb: 'list', method: 'GET', resource: buildResourceLabel(res),
      path: buildResourcePath(res, { namespace: opts.namespace }) + query,
      target: describeTarget(undefined, opts.namespace), signal: opts.signal,
      accept: opts.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
    });
  }

  private async send<T>(verb: string, method: HttpVerb, res: Resource, req: SendParts): Promise<T> {
    const write = req.write ? { fieldManager: this.opts.fieldManager } : {};
    const query = buildQuery({ ...write, ...req.query });
    const path = buildResourcePath(res, { namespace: req.namespace, name: req.name, subresource: req.subresource });
    return this.transport.request<T>({
      verb, method, path: path + query, body: req.body, contentType: req.contentType,
      resource: buildResourceLabel(res, req.subresource),
      target: describeTarget(req.name ?? req.target, req.namespace),
    });
  }
}

interface SendParts {
  name?: string;
  namespace?: string;
  subresource?: string;
  /** Names the object in messages when it is not part of the path (create). */
  target?: string;
  body?: unknown;
  contentType?: string;
  /** Adds `fieldManager`. */
  write?: boolean;
  query?: Record<string, string | undefined>;
}

function requireNamespace(res: Resource, namespace: string | undefined, name: string | undefined): string | undefined {
  if (res.namespaced && !namespace) throw new Error(`${res.kind} ${name ?? ''}: namespace required`);
  return res.namespaced ? namespace : undefined;
}

/** Fills apiVersion/kind from the resource when missing (list items never carry them). */
export function withTypeMeta<T extends KubeObject>(res: Resource, obj: T, metadataOnly = false): T {
  if (obj.apiVersion && obj.kind) return obj;
  const apiVersion = metadataOnly ? 'meta.k8s.io/v1' : buildApiVersion(res);
  const kind = metadataOnly ? 'PartialObjectMetadata' : res.kind;
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind: obj.kind ?? kind };
}

/** The server-side apply body: type meta filled in, `managedFields` dropped (the server rejects them). */
export function buildApplyBody<T extends KubeObject>(res: Resource, obj: T): T {
  if (!obj.metadata.name) throw new Error(`apply ${res.kind}: metadata.name required`);
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...withTypeMeta(res, obj), metadata };
}

export function buildDeleteBody(opts: DeleteOptions): Record<string, unknown> | undefined {
  const preconditions = opts.uid || opts.resourceVersion
    ? { uid: opts.uid, resourceVersion: opts.resourceVersion }
    : undefined;
  if (!preconditions && !opts.propagationPolicy) return undefined;
  return { apiVersion: 'v1', kind: 'DeleteOptions', preconditions, propagationPolicy: opts.propagationPolicy };
}
