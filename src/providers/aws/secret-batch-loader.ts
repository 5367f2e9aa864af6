/**
 * Reads the current value of secrets in batches. Every getSecret of a store within one tick (from
 * any number of reconciles) is queued in one DataLoader; the queue is sent as BatchGetSecretValue
 * requests of at most 20 ids. Identical reads in flight share one entry.
 */
import {
  BatchGetSecretValueCommand,
  type BatchGetSecretValueCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import DataLoader from 'dataloader';
import { encodeText } from '../json-value.js';
import { InvalidRefError, isProviderError, type ProviderError, UnavailableError } from '../provider-errors.js';
import { mapAwsError, mapAwsErrorCode } from './aws-errors.js';
import { type AttemptLog, REQUEST_TIMEOUT_MS } from './aws-sdk-options.js';
import type { VersionSelector } from './aws-ref.js';

/** BatchGetSecretValue takes at most 20 entries in SecretIdList. */
export const MAX_BATCH_SIZE = 20;

export interface SecretValue {
  name: string;
  arn: string;
  value: Uint8Array;
}

type Entry = NonNullable<BatchGetSecretValueCommandOutput['SecretValues']>[number] | GetSecretValueCommandOutput;

export function describeKey(id: string): string {
  return `remote key '${id}'`;
}

function toSecretValue(id: string, entry: Entry): SecretValue {
  const value = entry.SecretBinary ?? (entry.SecretString !== undefined ? encodeText(entry.SecretString) : undefined);
  if (value === undefined) throw new UnavailableError(`${describeKey(id)}: the response holds no value`);
  return { name: entry.Name ?? id, arn: entry.ARN ?? id, value };
}

function deadlineExceeded(what: string, signal: AbortSignal, lastAnswer?: string): UnavailableError {
  const last = lastAnswer ? ` (AWS's last answer meanwhile: ${lastAnswer}; the SDK was retrying)` : '';
  return new UnavailableError(`${what}: deadline exceeded${last}`, { cause: signal.reason });
}

/**
 * Rejects when the signal aborts (the caller's deadline); the shared request goes on for others.
 * `lastAnswer` tells, at that moment, what a failed attempt of the shared request answered.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, what: string, lastAnswer?: () => string | undefined): Promise<T> {
  if (signal.aborted) return Promise.reject(deadlineExceeded(what, signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(deadlineExceeded(what, signal, lastAnswer?.()));
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class SecretBatchLoader {
  private readonly loader: DataLoader<string, SecretValue>;
  private readonly attempts: AttemptLog | undefined;

  constructor(
    private readonly sm: SecretsManagerClient,
    opts: { batchScheduleFn?: (callback: () => void) => void; attempts?: AttemptLog } = {},
  ) {
    const { attempts, ...loaderOpts } = opts;
    this.attempts = attempts;
    this.loader = new DataLoader<string, SecretValue>((ids) => this.fetchBatch(ids), { maxBatchSize: MAX_BATCH_SIZE, ...loaderOpts });
  }

  /** The current value of `id` (a name or ARN). */
  load(id: string, signal: AbortSignal): Promise<SecretValue> {
    if (signal.aborted) return Promise.reject(deadlineExceeded(describeKey(id), signal));
    const start = Date.now();
    const shared = this.loader.load(id);
    // Keep an entry only while in flight, so the next tick reads afresh.
    void shared.then(
      () => this.loader.clear(id),
      () => this.loader.clear(id),
    );
    return raceAbort(shared, signal, describeKey(id), () => this.attempts?.lastFailureSince(start));
  }

  /** One version of `id` through GetSecretValue (versions are not batched). */
  async loadVersion(id: string, version: VersionSelector, signal: AbortSignal): Promise<SecretValue> {
    try {
      const out = await this.sm.send(new GetSecretValueCommand({ SecretId: id, ...version }), { abortSignal: signal });
      return toSecretValue(id, out);
    } catch (err) {
      throw mapAwsError(err, { what: describeKey(id), invalid: 'ref' });
    }
  }

  private async fetchBatch(ids: readonly string[]): Promise<(SecretValue | ProviderError)[]> {
    let out: BatchGetSecretValueCommandOutput;
    try {
      out = await this.sm.send(new BatchGetSecretValueCommand({ SecretIdList: [...ids] }), {
        abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const mapped = mapAwsError(err, { what: ids.length === 1 ? describeKey(ids[0] ?? '') : `${ids.length} remote keys`, invalid: 'ref' });
      // One malformed id can fail the whole request: then read each id alone, so the others still work.
      if (mapped instanceof InvalidRefError && ids.length > 1) return Promise.all(ids.map((id) => this.loadAlone(id)));
      throw mapped;
    }
    return Promise.all(ids.map((id) => this.resolveEntry(id, out)));
  }

  private resolveEntry(id: string, out: BatchGetSecretValueCommandOutput): SecretValue | ProviderError | Promise<SecretValue | ProviderError> {
    const entry = out.SecretValues?.find((v) => v.Name === id || v.ARN === id);
    if (entry) return this.settle(id, () => toSecretValue(id, entry));
    const failure = out.Errors?.find((e) => e.SecretId === id);
    if (failure) {
      const code = failure.ErrorCode ?? 'UnknownError';
      return mapAwsErrorCode(code, failure.Message, { what: describeKey(id), invalid: 'ref' }) ?? new UnavailableError(`${describeKey(id)}: ${code}`);
    }
    // Neither listed by name nor ARN (e.g. a partial ARN): ask for it alone.
    return this.loadAlone(id);
  }

  private loadAlone(id: string): Promise<SecretValue | ProviderError> {
    return this.loadVersion(id, undefined, AbortSignal.timeout(REQUEST_TIMEOUT_MS)).catch((err: unknown) =>
      mapAwsError(err, { what: describeKey(id), invalid: 'ref' }),
    );
  }

  private settle(id: string, fn: () => SecretValue): SecretValue | ProviderError {
    try {
      return fn();
    } catch (err) {
      return isProviderError(err) ? err : mapAwsError(err, { what: describeKey(id) });
    }
  }
}
