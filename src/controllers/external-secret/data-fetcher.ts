/** Reads everything an ExternalSecret asks for from its store's client. */
import type { ExternalSecretSpec } from '../../api/external-secret.js';
import type { CallOptions, FindQuery, RemoteRef, SecretsClient } from '../../providers/provider.js';
import { SecretNotFoundError } from '../../providers/provider-errors.js';
import { applyRewrites } from './rewrite-merge.js';
import { convertKeys, decodeMap, decodeValue } from './value-decoding.js';

export interface FetchResult {
  data: Map<string, Uint8Array>;
  /** Remote keys that do not exist (only collected when the deletion policy needs them). */
  missing: string[];
}

/**
 * dataFrom entries are applied in order, then `data` entries, which win on a key clash.
 * With `collectMissing`, a NotFound remote key is recorded and skipped instead of thrown.
 * A find that matches nothing counts as a missing key, never as "no keys": an empty answer (a
 * provider glitch, a renamed path) must drive the deletion policy, not blank the Secret.
 */
export async function fetchSecretData(
  client: SecretsClient,
  spec: ExternalSecretSpec,
  opts: CallOptions,
  collectMissing: boolean,
): Promise<FetchResult> {
  const data = new Map<string, Uint8Array>();
  const missing: string[] = [];
  const guard = async <T>(ref: RemoteRef | undefined, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (err) {
      if (collectMissing && err instanceof SecretNotFoundError) {
        missing.push(ref?.key ?? '(find)');
        return undefined;
      }
      throw err;
    }
  };
  for (const [index, item] of (spec.dataFrom ?? []).entries()) {
    const found = item.extract
      ? await guard(item.extract, () => client.getSecretMap(item.extract as RemoteRef, opts))
      : await guard(undefined, () => findSome(client, item.find ?? {}, opts));
    const strategies = item.extract ?? item.find ?? {};
    const what = item.extract ? `remote key '${item.extract.key}'` : 'find';
    // As ESO: keys are converted only when the entry has no rewrite.
    const keyed = item.rewrite?.length
      ? applyRewrites(found ?? new Map(), item.rewrite, `dataFrom[${index}]`)
      : convertKeys(found ?? new Map(), strategies.conversionStrategy);
    for (const [k, v] of decodeMap(keyed, strategies.decodingStrategy, what)) data.set(k, v);
  }
  // Distinct refs are read once, concurrently, even when several secretKeys point at them; behind
  // the shared read layer, the properties of one key and version share one provider call.
  const refId = (ref: RemoteRef) => JSON.stringify([ref.key, ref.property, ref.version, ref.metadataPolicy === 'Fetch']);
  const distinct = new Map((spec.data ?? []).map((item) => [refId(item.remoteRef), item.remoteRef]));
  const values = new Map<string, Uint8Array | undefined>();
  await Promise.all(
    [...distinct].map(async ([id, ref]) => {
      values.set(id, await guard(ref, () => client.getSecret(ref, opts)));
    }),
  );
  for (const item of spec.data ?? []) {
    const value = values.get(refId(item.remoteRef));
    if (value !== undefined) data.set(item.secretKey, decodeValue(value, item.remoteRef.decodingStrategy, `remote key '${item.remoteRef.key}'`));
  }
  return { data, missing: [...new Set(missing)] };
}

async function findSome(client: SecretsClient, query: FindQuery, opts: CallOptions): Promise<Map<string, Uint8Array>> {
  const found = await client.findSecrets(query, opts);
  if (found.size === 0) throw new SecretNotFoundError(`find ${describeFind(query)} matched no remote secret`);
  return found;
}

function describeFind(query: FindQuery): string {
  const parts = [
    query.name ? `name matching '${query.name.regexp}'` : undefined,
    query.path !== undefined ? `path '${query.path}'` : undefined,
    query.tags ? `tags ${Object.entries(query.tags).map(([k, v]) => `${k}=${v}`).join(',')}` : undefined,
  ];
  return `(${parts.filter(Boolean).join(', ') || 'everything'})`;
}
