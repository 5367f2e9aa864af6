/** A SecretsClient for one GCP Secret Manager store, over the SecretManagerApi port. */
import { Status } from 'google-gax';
import type { Logger } from '../../observability/logger.js';
import { buildJsonWhole, encodeText, expandJsonObject } from '../json-value.js';
import { isMetadataFetch, selectMetadata } from '../metadata-value.js';
import type { CallOptions, FindQuery, RemoteRef, SecretsClient, WholeSecret } from '../provider.js';
import { AuthError, InvalidRefError, ProviderError } from '../provider-errors.js';
import type { SecretManagerApi, SecretMetadata } from './gcp-api.js';
import { statusOf } from './gcp-errors.js';
import { buildListFilter, buildSecretMatcher, buildSecretName, buildVersionName, type ListedSecret, parseSecretId } from './gcp-names.js';

const PAGE_SIZE = 250;
/** How many secrets `find` reads at once. */
const FIND_CONCURRENCY = 4;

export interface GcpClientOptions {
  projectID: string;
  /** Makes sure credentials are usable before a call (workload identity: exchanges a token in time). */
  prepare?: (signal: AbortSignal) => Promise<void>;
  /** Releases what connect opened besides the SDK client (a token endpoint connection pool). */
  dispose?: () => Promise<void>;
  log?: Pick<Logger, 'debug'>;
}

/** ESO's property rule for GCP metadata (see readMetadata). */
export function selectGcpMetadata(metadata: SecretMetadata, ref: Pick<RemoteRef, 'key' | 'property'>): Uint8Array {
  const { property } = ref;
  if (property === undefined) return encodeText(JSON.stringify({ annotations: metadata.annotations, labels: metadata.labels }));
  const [kind, ...rest] = property.split('.');
  if (kind !== 'labels' && kind !== 'annotations') {
    throw new InvalidRefError(`metadata property '${property}' of remote key '${ref.key}' must be labels, annotations, labels.KEY or annotations.KEY`);
  }
  if (rest.length === 0) return selectMetadata(metadata[kind], { key: ref.key });
  return selectMetadata(metadata[kind], { key: ref.key, property: rest.join('.') });
}

/**
 * metadataPolicy Fetch, as ESO reads GCP: the secret's `{ annotations, labels }` as JSON; with
 * property `labels` or `annotations` that map, with `labels.KEY` or `annotations.KEY` one entry.
 * getSecretMap expands the selected JSON object.
 */
export function buildGcpMetadataWhole(metadata: SecretMetadata): WholeSecret {
  const value = (ref: RemoteRef) => selectGcpMetadata(metadata, ref);
  return { value, map: (ref) => expandJsonObject(value(ref), ref.key) };
}

export class GcpSecretsClient implements SecretsClient {
  constructor(
    private readonly api: SecretManagerApi,
    private readonly opts: GcpClientOptions,
  ) {}

  private async readVersion(ref: RemoteRef, signal: AbortSignal): Promise<Uint8Array> {
    const name = buildVersionName(this.opts.projectID, ref);
    await this.opts.prepare?.(signal);
    const version = ref.version ? ` version '${ref.version}'` : '';
    return this.api.accessSecretVersion(name, `remote key '${ref.key}'${version}`, signal);
  }

  /** One read: the version's payload (AccessSecretVersion) with every property, or its secret's metadata. */
  async readWhole(ref: RemoteRef, { signal }: CallOptions): Promise<WholeSecret> {
    if (isMetadataFetch(ref)) return buildGcpMetadataWhole(await this.readMetadata(ref.key, signal));
    return buildJsonWhole(await this.readVersion(ref, signal));
  }

  async getSecret(ref: RemoteRef, opts: CallOptions): Promise<Uint8Array> {
    return (await this.readWhole(ref, opts)).value(ref);
  }

  /** metadataPolicy Fetch, as ESO reads GCP: the secret's labels and annotations (see selectGcpMetadata). */
  private async readMetadata(key: string, signal: AbortSignal): Promise<SecretMetadata> {
    await this.opts.prepare?.(signal);
    return this.api.getSecretMetadata(buildSecretName(this.opts.projectID, key), `remote key '${key}' (its labels and annotations)`, signal);
  }

  async getSecretMap(ref: RemoteRef, opts: CallOptions): Promise<Map<string, Uint8Array>> {
    return (await this.readWhole(ref, opts)).map(ref);
  }

  async findSecrets(query: FindQuery, { signal }: CallOptions): Promise<Map<string, Uint8Array>> {
    const matches = buildSecretMatcher(query);
    const listed = (await this.listAll(buildListFilter(query), signal)).filter(matches);
    // Keys are secret ids: the server names listed secrets by project number, not the configured ID.
    const keys = listed.map((s) => parseSecretId(s.name));
    const values = await mapLimit(keys, FIND_CONCURRENCY, (key) => this.readListed(key, signal));
    const result = new Map<string, Uint8Array>();
    keys.forEach((key, i) => {
      const value = values[i];
      if (value) result.set(key, value);
    });
    return result;
  }

  /** The newest version of a listed secret; undefined when it has none, it is disabled or destroyed, or the secret vanished since. */
  private async readListed(key: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    try {
      return await this.readVersion({ key }, signal);
    } catch (err) {
      const status = err instanceof ProviderError ? statusOf(err.cause) : undefined;
      if (err instanceof ProviderError && (err.errorClass === 'NotFound' || status === Status.FAILED_PRECONDITION)) {
        this.opts.log?.debug({ key }, 'find skips a secret whose newest version is missing, disabled or destroyed');
        return undefined;
      }
      throw err;
    }
  }

  private async listAll(filter: string | undefined, signal: AbortSignal): Promise<ListedSecret[]> {
    const parent = `projects/${this.opts.projectID}`;
    const secrets: ListedSecret[] = [];
    let pageToken: string | undefined;
    do {
      await this.opts.prepare?.(signal);
      const page = await this.api.listSecrets({ parent, filter, pageSize: PAGE_SIZE, pageToken }, signal);
      secrets.push(...page.secrets);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return secrets;
  }

  /**
   * Credentials work and the project is reachable. Listing needs `secretmanager.secrets.list`,
   * which a store that only reads named keys may lack: PERMISSION_DENIED still proves the
   * credentials were accepted, so only UNAUTHENTICATED (and every other failure) fails validation.
   */
  async validate({ signal }: CallOptions): Promise<void> {
    await this.opts.prepare?.(signal);
    try {
      await this.api.listSecrets({ parent: `projects/${this.opts.projectID}`, pageSize: 1 }, signal);
    } catch (err) {
      if (err instanceof AuthError && statusOf(err.cause) === Status.PERMISSION_DENIED) return;
      throw err;
    }
  }

  async close(): Promise<void> {
    try {
      await this.api.close();
    } finally {
      await this.opts.dispose?.();
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
