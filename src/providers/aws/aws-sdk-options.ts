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
 * Every HTTP request of `client` first takes a token from the store's budget: once per attempt
 * (inside the SDK's retry middleware), as AWS's own quota counts them, so the SDK's retry of a
 * throttled call is not free; a BatchGetSecretValue of 20 secrets still costs one token.
 */
export function spendBudgetPerCall(client: SecretsManagerClient | STSClient, budget: RequestBudget | undefined): void {
  if (!budget) return;
  const stack = (client as SecretsManagerClient).middlewareStack;
  const perAttempt: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    await budget.take();
    return next(args);
  };
  stack.addRelativeTo(
    perAttempt,
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'lockstepRequestBudget' },
  );
}
