/** Options shared by the store's Secrets Manager and STS clients. */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsProviderSpec } from '../../api/providers/aws.js';
import type { RequestBudget } from '../provider.js';

/** One retry at most: the operator retries with its own per-key backoff. */
export const MAX_ATTEMPTS = 2;
export const CONNECTION_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 20_000;

export function buildSdkOptions(config: Pick<AwsProviderSpec, 'region'>, endpoint: string | undefined) {
  return {
    region: config.region,
    endpoint,
    maxAttempts: MAX_ATTEMPTS,
    // 'auto' would look up the instance's region through instance metadata; never probe it.
    defaultsMode: 'standard' as const,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  };
}

/**
 * Every API call of `client` first takes a token from the store's budget: once per call (the
 * initialize step), not per retry, so a BatchGetSecretValue of 20 secrets costs one token.
 */
export function spendBudgetPerCall(client: SecretsManagerClient | STSClient, budget: RequestBudget | undefined): void {
  if (!budget) return;
  (client as SecretsManagerClient).middlewareStack.add(
    (next) => async (args) => {
      await budget.take();
      return next(args);
    },
    { step: 'initialize', name: 'lockstepRequestBudget' },
  );
}
