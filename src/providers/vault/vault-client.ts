/**
 * A store's client of a Vault KV mount. One per store generation: one HTTP agent, one session
 * (token, renewal, re-login). Values are the secret's data map — as JSON, or one field of it with
 * `property` — with the single-`value` convention of secretValue.
 */
import type { CallOptions, FindQuery, RemoteRef, SecretsClient, WholeSecret } from '../provider.js';
import { InvalidConfigError, InvalidRefError, SecretNotFoundError } from '../provider-errors.js';
import type { VaultApi } from './vault-api.js';
import { mapVaultError, vaultStatus } from './vault-errors.js';
import { compileNamePattern } from '../name-pattern.js';
import { buildMetadataWhole, isMetadataFetch, type Metadata } from '../metadata-value.js';
import { forEachLimited, listKeys } from './vault-find.js';
import { buildDataWhole, type KvPaths, parseCustomMetadata, parseKvData, parseKvList, secretValue } from './vault-kv.js';
import type { SessionStats, VaultSession } from './vault-session.js';

const READ_CONCURRENCY = 8;

type Data = Record<string, unknown>;

export class VaultSecretsClient implements SecretsClient {
  constructor(
    private readonly api: VaultApi,
    private readonly session: VaultSession,
    private readonly kv: KvPaths,
  ) {}

  /** Logins and token renewals so far. */
  get stats(): Readonly<SessionStats> {
    return this.session.stats;
  }

  /** One read: the version's data map (see buildDataWhole), or with metadataPolicy Fetch its custom metadata. */
  async readWhole(ref: RemoteRef, { signal }: CallOptions): Promise<WholeSecret> {
    if (isMetadataFetch(ref)) return buildMetadataWhole(await this.readMetadata(ref.key, signal));
    return buildDataWhole(await this.readData(ref, signal));
  }

  async getSecret(ref: RemoteRef, opts: CallOptions): Promise<Uint8Array> {
    return (await this.readWhole(ref, opts)).value(ref);
  }

  async getSecretMap(ref: RemoteRef, opts: CallOptions): Promise<Map<string, Uint8Array>> {
    return (await this.readWhole(ref, opts)).map(ref);
  }

  async findSecrets(query: FindQuery, { signal }: CallOptions): Promise<Map<string, Uint8Array>> {
    const tags = Object.entries(query.tags ?? {});
    if (tags.length > 0 && this.kv.version === 'v1') {
      throw new InvalidConfigError(`find by tags needs KV v2 custom metadata; ${this.kv.mount}/ is KV v1: find by name or path`);
    }
    const pattern = compileNamePattern(query.name?.regexp);
    const listed = await listKeys((folder) => this.listFolder(folder, signal), query.path ?? '');
    const named = pattern ? listed.filter((k) => pattern.test(k)) : listed;
    const matching = tags.length > 0 ? await this.filterByTags(named, Object.fromEntries(tags), signal) : named;
    const values = new Map<string, Uint8Array>();
    await forEachLimited(matching, READ_CONCURRENCY, async (key) => {
      const data = await this.readData({ key }, signal).catch((err: unknown) => (err instanceof SecretNotFoundError ? undefined : Promise.reject(err)));
      if (data) values.set(key, secretValue(data)); // a key listed but deleted since is skipped
    });
    return new Map(matching.filter((k) => values.has(k)).map((k) => [k, values.get(k) as Uint8Array]));
  }

  /** Logs in (or checks the given token) and checks that the mount is the configured KV version. */
  async validate({ signal }: CallOptions): Promise<void> {
    await this.call(signal, 'checking the Vault token', 'read', (token) => this.api.read('auth/token/lookup-self', { token, signal }));
    const mount = await this.session
      .withToken(signal, (token) => this.api.read(`sys/internal/ui/mounts/${this.kv.mount}`, { token, signal }))
      .catch(() => undefined); // needs no special policy, but a proxy or an old server may refuse it: skip the check
    const options = (mount as { data?: { type?: unknown; options?: { version?: unknown } } } | undefined)?.data;
    if (options?.type !== 'kv') return;
    const actual = options.options?.version === '2' ? 'v2' : 'v1';
    if (actual !== this.kv.version) {
      throw new InvalidConfigError(`${this.kv.mount}/ is a KV ${actual} mount, but the store says version ${this.kv.version}`);
    }
  }

  async close(): Promise<void> {
    try {
      await this.session.close();
    } finally {
      this.api.close();
    }
  }

  private async readData(ref: RemoteRef, signal: AbortSignal): Promise<Data> {
    const what = this.kv.describe(ref.key, ref.version);
    const path = this.kv.data(ref.key, ref.version);
    const body = await this.call(signal, `reading ${what}`, 'read', (token) => this.api.read(path, { token, signal }));
    const data = parseKvData(body, this.kv.version);
    if (!data) throw new SecretNotFoundError(`${what} has no data (the version is deleted or destroyed)`);
    return data;
  }

  /** metadataPolicy Fetch: the secret's KV v2 custom_metadata (the metadata/ endpoint; it has no versions). */
  private async readMetadata(key: string, signal: AbortSignal): Promise<Metadata> {
    if (this.kv.version === 'v1') {
      throw new InvalidRefError(`metadataPolicy Fetch reads KV v2 custom metadata; ${this.kv.mount}/ is KV v1, which has none`);
    }
    const path = this.kv.metadata(key);
    const body = await this.call(signal, `reading the metadata of ${this.kv.describe(key)}`, 'read', (token) => this.api.read(path, { token, signal }));
    return parseCustomMetadata(body);
  }

  private async listFolder(folder: string, signal: AbortSignal): Promise<string[]> {
    const path = this.kv.list(folder);
    try {
      return parseKvList(await this.session.withToken(signal, (token) => this.api.list(path, { token, signal })));
    } catch (err) {
      if (vaultStatus(err) === 404) return []; // an empty or missing folder
      throw mapVaultError(err, `listing '${folder}' in ${this.kv.mount}/`, 'list');
    }
  }

  private async filterByTags(keys: string[], tags: Record<string, string>, signal: AbortSignal): Promise<string[]> {
    const tagged = new Set<string>();
    await forEachLimited(keys, READ_CONCURRENCY, async (key) => {
      const path = this.kv.metadata(key);
      const body = await this.call(signal, `reading the metadata of ${this.kv.describe(key)}`, 'read', (token) => this.api.read(path, { token, signal }))
        .catch((err: unknown) => (err instanceof SecretNotFoundError ? undefined : Promise.reject(err)));
      const custom = parseCustomMetadata(body);
      if (body !== undefined && Object.entries(tags).every(([k, v]) => custom[k] === v)) tagged.add(key);
    });
    return keys.filter((k) => tagged.has(k));
  }

  private async call<T>(signal: AbortSignal, what: string, op: 'read' | 'list', fn: (token: string) => Promise<T>): Promise<T> {
    try {
      return await this.session.withToken(signal, fn);
    } catch (err) {
      throw mapVaultError(err, what, op);
    }
  }
}
