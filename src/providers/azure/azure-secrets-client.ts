/**
 * A SecretsClient over one Key Vault: one SecretClient (and credential) per store, reused by
 * every call; each call carries its AbortSignal into the SDK. Every SDK error is mapped once here.
 */
import { compileNamePattern } from '../name-pattern.js';
import type { Pattern } from '../../runtime/pattern.js';
import type { SecretClient, SecretProperties } from '@azure/keyvault-secrets';
import { buildJsonWhole, encodeText } from '../json-value.js';
import type { CallOptions, FindQuery, RemoteRef, SecretsClient, WholeSecret } from '../provider.js';
import { InvalidRefError, SecretNotFoundError } from '../provider-errors.js';
import { toProviderError } from './azure-errors.js';
import { buildMetadataWhole, isMetadataFetch, type Metadata } from '../metadata-value.js';

/** Key Vault secret names: 1–127 letters, digits and dashes. */
export const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
/** Secrets read in parallel by findSecrets. */
const FIND_CONCURRENCY = 4;
/** A name no one creates: validate() reads it and expects NotFound. */
export const PROBE_NAME = 'lockstep-connection-check';

/** Whether a listed secret matches a find query: enabled, name regexp, name prefix (path), all tags. */
export function shouldInclude(props: Pick<SecretProperties, 'name' | 'enabled' | 'tags'>, query: FindQuery, pattern?: Pick<Pattern, 'test'>): boolean {
  if (props.enabled === false) return false;
  if (query.path && !props.name.startsWith(query.path)) return false;
  if (pattern && !pattern.test(props.name)) return false;
  for (const [tag, value] of Object.entries(query.tags ?? {})) {
    if (props.tags?.[tag] !== value) return false;
  }
  return true;
}

export class AzureSecretsClient implements SecretsClient {
  constructor(
    private readonly client: SecretClient,
    /** Releases what connect opened besides the SDK client (its connection pool). */
    private readonly release: () => void = () => undefined,
  ) {}

  private async readSecret(name: string, version: string | undefined, signal: AbortSignal): Promise<{ value: Uint8Array; tags: Metadata }> {
    if (!SECRET_NAME.test(name)) {
      throw new InvalidRefError(`remote key '${name}' is not a Key Vault secret name (1-127 letters, digits and dashes)`);
    }
    const what = `reading secret '${name}'${version ? ` version '${version}'` : ''}`;
    try {
      const secret = await this.client.getSecret(name, { version, abortSignal: signal });
      return { value: encodeText(secret.value ?? ''), tags: { ...secret.properties.tags } };
    } catch (err) {
      throw toProviderError(err, what);
    }
  }

  private async readValue(name: string, version: string | undefined, signal: AbortSignal): Promise<Uint8Array> {
    return (await this.readSecret(name, version, signal)).value;
  }

  /**
   * One read (getSecret) of a version: its value with every property, or with metadataPolicy Fetch
   * its tags (Key Vault keeps tags per version), as ESO reads them.
   */
  async readWhole(ref: RemoteRef, opts: CallOptions): Promise<WholeSecret> {
    const secret = await this.readSecret(ref.key, ref.version, opts.signal);
    return isMetadataFetch(ref) ? buildMetadataWhole(secret.tags) : buildJsonWhole(secret.value);
  }

  async getSecret(ref: RemoteRef, opts: CallOptions): Promise<Uint8Array> {
    return (await this.readWhole(ref, opts)).value(ref);
  }

  async getSecretMap(ref: RemoteRef, opts: CallOptions): Promise<Map<string, Uint8Array>> {
    return (await this.readWhole(ref, opts)).map(ref);
  }

  private async listMatching(query: FindQuery, signal: AbortSignal): Promise<string[]> {
    const pattern = compileNamePattern(query.name?.regexp);
    const names: string[] = [];
    try {
      for await (const props of this.client.listPropertiesOfSecrets({ abortSignal: signal })) {
        if (shouldInclude(props, query, pattern)) names.push(props.name);
      }
    } catch (err) {
      throw toProviderError(err, 'listing secrets');
    }
    return names;
  }

  async findSecrets(query: FindQuery, opts: CallOptions): Promise<Map<string, Uint8Array>> {
    const names = await this.listMatching(query, opts.signal);
    const found = new Map<string, Uint8Array>();
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++] as string;
        try {
          found.set(name, await this.readValue(name, undefined, opts.signal));
        } catch (err) {
          if (!(err instanceof SecretNotFoundError)) throw err; // deleted or disabled since it was listed
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FIND_CONCURRENCY, names.length) }, worker));
    return new Map([...names].filter((n) => found.has(n)).map((n) => [n, found.get(n) as Uint8Array]));
  }

  /** Authenticates and reads a secret that does not exist: NotFound proves credentials and Get permission. */
  async validate(opts: CallOptions): Promise<void> {
    try {
      await this.readValue(PROBE_NAME, undefined, opts.signal);
    } catch (err) {
      if (!(err instanceof SecretNotFoundError)) throw err;
    }
  }

  close(): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}
