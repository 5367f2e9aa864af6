/** Options shared by the store's Secrets Manager and STS clients. */
import type { AwsProviderSpec } from '../../api/providers/aws.js';

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
