/**
 * The content of the ExternalSecrets delivered as files, as the operator serves it to agents.
 *
 * Values are read through the same shared, coalesced, rate-limited provider clients as the
 * reconciler's, and rendered the same way, so one provider read serves every pod. Each
 * ExternalSecret's rendered files are kept in memory only (never in a Kubernetes Secret) and
 * re-read when the reconciler reports new content (status.filesHash, a keyed hash) or a new spec:
 * in the leader that re-read finds the reconciler's own read in the shared cache; another replica
 * reads once per change. Agents waiting in a long poll are woken when an entry changes.
 */
import type { ExternalSecretSpec } from '../api/external-secret.js';
import { apiSchemas, loadApiSchemas } from '../api/schema-loader.js';
import type { Informer, KubeObject } from '../kube/kube-port.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';
import type { ClientCache } from '../providers/client-cache.js';
import type { ProviderRegistry } from '../providers/provider-registry.js';
import { fetchSecretData } from '../controllers/external-secret/data-fetcher.js';
import { buildDesiredSecret, computeDataHash, findInvalidKeys, findInvalidPatterns, renderTemplate } from '../controllers/external-secret/secret-builder.js';
import { resolveStore, type StoreInformers } from '../controllers/external-secret/store-resolver.js';
import { parseOnce } from '../api/parse-once.js';
import { withDeadline } from '../runtime/deadline.js';

export interface FileSetEntry {
  /** Keyed hash of the rendered files: the same one the reconciler writes to status.filesHash. */
  hash: string;
  files: Map<string, Uint8Array>;
  generation: number | undefined;
}

/** Why an ExternalSecret's files cannot be served; `status` is the HTTP status to answer with. */
export class FileSetError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface FileSetSourceDeps {
  informers: StoreInformers & { externalSecrets: Informer<KubeObject> };
  registry: ProviderRegistry;
  clients: ClientCache;
  scrubber: SecretScrubber;
  hashKey: Uint8Array;
  providerTimeoutMs: number;
}

/** A re-read after the reconciler reported a change may reuse a shared read this young. */
const CHANGE_READ_MAX_AGE_MS = 15_000;
/** Bounds the in-memory entries; the least recently used go first (they are re-read on demand). */
const MAX_ENTRIES = 10_000;

export class FileSetSource {
  private readonly entries = new Map<string, FileSetEntry>();
  /** The status.filesHash each entry was last checked against: a change of it means re-read. */
  private readonly checkedFor = new Map<string, string | undefined>();
  private readonly inflight = new Map<string, Promise<FileSetEntry>>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly deps: FileSetSourceDeps) {
    const onChange = (obj: KubeObject) => this.onExternalSecret(obj);
    deps.informers.externalSecrets.on('update', onChange);
    deps.informers.externalSecrets.on('delete', (obj) => this.forget(keyOf(obj)));
  }

  /** The ExternalSecret, checked to be delivered as files; throws a FileSetError saying what is wrong. */
  async lookup(namespace: string, name: string): Promise<{ es: KubeObject; spec: ExternalSecretSpec }> {
    const es = this.deps.informers.externalSecrets.get(name, namespace);
    if (!es) throw new FileSetError(404, `ExternalSecret '${namespace}/${name}' does not exist`);
    const parsed = parseOnce((await loadApiSchemas()).ExternalSecretSpec, es['spec']);
    if (!parsed.success) throw new FileSetError(409, `ExternalSecret '${namespace}/${name}' has an invalid spec; see its status`);
    if (parsed.data.target?.delivery !== 'Files') {
      throw new FileSetError(400, `ExternalSecret '${namespace}/${name}' is not delivered as files; set spec.target.delivery: Files`);
    }
    return { es, spec: parsed.data };
  }

  /** The current files of an ExternalSecret (read on first use, then kept until the content changes). */
  async get(namespace: string, name: string): Promise<FileSetEntry> {
    const { es, spec } = await this.lookup(namespace, name);
    const key = `${namespace}/${name}`;
    const reported = filesHashOf(es);
    const entry = this.entries.get(key);
    if (entry && entry.generation === es.metadata.generation && (entry.hash === reported || this.checkedFor.get(key) === reported)) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, entry);
      return entry;
    }
    const running = this.inflight.get(key);
    if (running) return running;
    const read = this.read(key, es, spec, entry ? CHANGE_READ_MAX_AGE_MS : CHANGE_READ_MAX_AGE_MS * 2).finally(() => this.inflight.delete(key));
    this.inflight.set(key, read);
    return read;
  }

  /** Resolves when an entry of `keys` changes, or after `ms`. */
  async waitForChange(keys: string[], ms: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        for (const k of keys) this.waiters.get(k)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      for (const k of keys) {
        let set = this.waiters.get(k);
        if (!set) this.waiters.set(k, (set = new Set()));
        set.add(done);
      }
    });
  }

  /** How many agents wait on each ExternalSecret (for metrics and tests). */
  waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  private async read(key: string, es: KubeObject, spec: ExternalSecretSpec, maxAgeMs: number): Promise<FileSetEntry> {
    const namespace = es.metadata.namespace ?? '';
    const name = es.metadata.name ?? '';
    const store = await resolveStore(this.deps.informers, this.deps.registry, namespace, spec.secretStoreRef);
    if (!store.ok) throw new FileSetError(503, store.message);
    const patterns = findInvalidPatterns(spec);
    if (patterns.length > 0) throw new FileSetError(409, patterns.join('; '));
    const client = await this.deps.clients.get(store.store, store.provider, store.config, store.spec.rateLimit);
    let rendered: Map<string, Uint8Array>;
    try {
      const { data } = await withDeadline(this.deps.providerTimeoutMs, (signal) => fetchSecretData(client, spec, { signal, maxAgeMs }, false));
      for (const value of data.values()) this.deps.scrubber.add(value);
      rendered = renderTemplate(spec.target?.template, data);
    } catch (err) {
      throw new FileSetError(503, `reading ExternalSecret '${namespace}/${name}' failed: ${this.deps.scrubber.scrub((err as Error).message)}`);
    }
    for (const value of rendered.values()) this.deps.scrubber.add(value);
    const invalid = findInvalidKeys(rendered);
    if (invalid.length > 0) throw new FileSetError(409, `keys ${invalid.map((k) => `'${k}'`).join(', ')} are not valid file names`);
    const hash = computeDataHash(this.deps.hashKey, buildDesiredSecret({ name, namespace, spec }, rendered));
    const reported = filesHashOf(es);
    // The reconciler reports content we did not find: the shared read we were given predates its
    // read (a standby's own older read). Read afresh once; whatever that gives is the truth.
    if (reported !== undefined && reported !== hash && maxAgeMs > 0) return this.read(key, es, spec, 0);
    const entry: FileSetEntry = { hash, files: rendered, generation: es.metadata.generation };
    const previous = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.checkedFor.set(key, reported);
    if (this.entries.size > MAX_ENTRIES) this.forget(this.entries.keys().next().value as string);
    if (previous && previous.hash !== hash) this.wake(key);
    return entry;
  }

  /** The reconciler reported new content or the spec changed: re-read, then wake the waiting agents. */
  private onExternalSecret(obj: KubeObject): void {
    const key = keyOf(obj);
    const entry = this.entries.get(key);
    if (!entry) return;
    const reported = filesHashOf(obj);
    if (entry.generation === obj.metadata.generation && (entry.hash === reported || this.checkedFor.get(key) === reported)) return;
    const [namespace, name] = key.split('/') as [string, string];
    this.get(namespace, name).then(
      () => this.wake(key), // a new spec may render the same files: the waiters find out and wait again
      () => this.wake(key),
    );
  }

  private wake(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const done of set) done();
  }

  private forget(key: string): void {
    this.entries.delete(key);
    this.checkedFor.delete(key);
    this.wake(key);
  }
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** Called once an entry was looked up, so the schemas are loaded. */
function filesHashOf(es: KubeObject): string | undefined {
  return parseOnce(apiSchemas().ExternalSecretStatus, es['status'] ?? {}).data?.filesHash;
}
