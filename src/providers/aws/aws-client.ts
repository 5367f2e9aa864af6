/** A Secrets Manager client for one store: batched reads, versioned reads, find, validate. */
import { DescribeSecretCommand, ListSecretsCommand, type ListSecretsCommandOutput, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { buildJsonWhole } from '../json-value.js';
import { compileNamePattern } from '../name-pattern.js';
import { buildMetadataWhole, isMetadataFetch, type Metadata } from '../metadata-value.js';
import type { CallOptions, FindQuery, RemoteRef, SecretsClient, WholeSecret } from '../provider.js';
import { SecretNotFoundError } from '../provider-errors.js';
import type { CredentialProvider } from './aws-credentials.js';
import { mapAwsError } from './aws-errors.js';
import { buildListFilters, type ListedSecret, parseVersion, shouldIncludeSecret } from './aws-ref.js';
import { SecretBatchLoader } from './secret-batch-loader.js';

export interface AwsSecretsClientDeps {
  sm: SecretsManagerClient;
  /** Used by validate (GetCallerIdentity), with the same credentials. */
  sts: STSClient;
  credentials: CredentialProvider;
  loader?: SecretBatchLoader;
}

const LIST_PAGE_SIZE = 100;

export class AwsSecretsClient implements SecretsClient {
  private readonly loader: SecretBatchLoader;

  constructor(private readonly deps: AwsSecretsClientDeps) {
    this.loader = deps.loader ?? new SecretBatchLoader(deps.sm);
  }

  private async read(ref: RemoteRef, signal: AbortSignal): Promise<Uint8Array> {
    const version = parseVersion(ref.version);
    const secret = version ? await this.loader.loadVersion(ref.key, version, signal) : await this.loader.load(ref.key, signal);
    return secret.value;
  }

  /**
   * One read: the value (GetSecretValue, batched) with every property, or with metadataPolicy
   * Fetch the tags (DescribeSecret). getSecretMap expands the object at `property` (the whole value
   * without one).
   */
  async readWhole(ref: RemoteRef, { signal }: CallOptions): Promise<WholeSecret> {
    if (isMetadataFetch(ref)) return buildMetadataWhole(await this.readTags(ref.key, signal));
    return buildJsonWhole(await this.read(ref, signal));
  }

  async getSecret(ref: RemoteRef, opts: CallOptions): Promise<Uint8Array> {
    return (await this.readWhole(ref, opts)).value(ref);
  }

  async getSecretMap(ref: RemoteRef, opts: CallOptions): Promise<Map<string, Uint8Array>> {
    return (await this.readWhole(ref, opts)).map(ref);
  }

  /** metadataPolicy Fetch: the secret's tags (secretsmanager:DescribeSecret; tags have no versions). */
  private async readTags(key: string, signal: AbortSignal): Promise<Metadata> {
    const out = await this.deps.sm.send(new DescribeSecretCommand({ SecretId: key }), { abortSignal: signal }).catch((err: unknown) => {
      throw mapAwsError(err, { what: `remote key '${key}' (its tags)`, invalid: 'ref' });
    });
    if (out.DeletedDate) throw new SecretNotFoundError(`remote key '${key}' is scheduled for deletion`);
    return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  async findSecrets(query: FindQuery, { signal }: CallOptions): Promise<Map<string, Uint8Array>> {
    const listed = await this.listMatching(query, signal);
    const values = await Promise.all(listed.map((s) => this.loader.load(s.arn, signal).catch((err: unknown) => skipGone(err))));
    const result = new Map<string, Uint8Array>();
    for (const v of values) if (v) result.set(v.name, v.value);
    return result;
  }

  private async listMatching(query: FindQuery, signal: AbortSignal): Promise<(ListedSecret & { arn: string })[]> {
    const pattern = compileNamePattern(query.name?.regexp);
    const Filters = buildListFilters(query);
    const found: (ListedSecret & { arn: string })[] = [];
    let NextToken: string | undefined;
    do {
      const page: ListSecretsCommandOutput = await this.deps.sm
        .send(new ListSecretsCommand({ Filters, MaxResults: LIST_PAGE_SIZE, NextToken }), { abortSignal: signal })
        .catch((err: unknown) => {
          throw mapAwsError(err, { what: 'listing secrets', invalid: 'config' });
        });
      for (const s of page.SecretList ?? []) {
        if (!s.Name || !s.ARN) continue;
        const listed = { name: s.Name, arn: s.ARN, tags: Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])) };
        if (shouldIncludeSecret(listed, query, pattern)) found.push(listed);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return found;
  }

  async validate({ signal }: CallOptions): Promise<void> {
    await this.deps.sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal }).catch((err: unknown) => {
      throw mapAwsError(err, { what: 'checking the store credentials (sts:GetCallerIdentity)', invalid: 'config' });
    });
  }

  close(): Promise<void> {
    this.deps.sm.destroy();
    this.deps.sts.destroy();
    this.deps.credentials.close();
    return Promise.resolve();
  }
}

/** A secret listed by find but deleted before its value was read is left out. */
function skipGone(err: unknown): undefined {
  if (err instanceof SecretNotFoundError) return undefined;
  throw err;
}
