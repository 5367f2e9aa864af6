/** Options shared by the store's Secrets Manager and STS clients. */
import type { SecretsManagerClient, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-secrets-manager';
import type { FinalizeRequestMiddleware } from '@aws-sdk/types';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsProviderSpec } from '../../api/providers/aws.js';
import type { RequestBudget } from '../provider.js';
import { openNetwork, type StoreNetwork } from '../store-network.js';

/** One retry at most: the operator retries with its own per-key backoff. */
export const MAX_ATTEMPTS = 2;
export const CONNECTION_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 20_000;

/** SDK options for one client; every connection goes through the store's network (checked for a SecretStore). */
export function buildSdkOptions(config: Pick<AwsProviderSpec, 'region'>, endpoint: string | undefined, network: StoreNetwork = openNetwork) {
  return {
    region: config.region,
    endpoint,
    maxAttempts: MAX_ATTEMPTS,
    // 'auto' would look up the instance's region through instance metadata; never probe it.
    defaultsMode: 'standard' as const,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      httpAgent: network.httpAgent({ keepAlive: true }),
      httpsAgent: network.httpsAgent({ keepAlive: true }),
    },
  };
}

/**
 * The last failed attempt of a store's calls (error name and HTTP status, never a message body), so
 * that a read whose deadline passes while the SDK retries can still say what AWS last answered.
 */
export class AttemptLog {
  private last: { answer: string; at: number } | undefined;

  failed(err: unknown): void {
    const shape = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; $metadata?: { httpStatusCode?: number } };
    const name = typeof shape.name === 'string' && shape.name !== 'Error' ? shape.name : '';
    const status = shape.$metadata?.httpStatusCode;
    const answer = [name, status !== undefined ? `HTTP ${status}` : ''].filter(Boolean).join(', ');
    if (answer) this.last = { answer, at: Date.now() };
  }

  succeeded(): void {
    this.last = undefined;
  }

  /** What the last failed attempt answered, if it failed at or after `since` (epoch ms). */
  lastFailureSince(since: number): string | undefined {
    return this.last && this.last.at >= since ? this.last.answer : undefined;
  }
}

/**
 * Every HTTP request of `client` first takes a token from the store's budget: once per attempt
 * (inside the SDK's retry middleware), as AWS's own quota counts them, so the SDK's retry of a
 * throttled call is not free; a BatchGetSecretValue of 20 secrets still costs one token.
 */
export function spendBudgetPerCall(client: SecretsManagerClient | STSClient, budget: RequestBudget | undefined, attempts?: AttemptLog): void {
  if (!budget && !attempts) return;
  const stack = (client as SecretsManagerClient).middlewareStack;
  const perAttempt: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    await budget?.take();
    try {
      const out = await next(args);
      attempts?.succeeded();
      return out;
    } catch (err) {
      attempts?.failed(err);
      throw err;
    }
  };
  stack.addRelativeTo(
    perAttempt,
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'lockstepRequestBudget' },
  );
}
