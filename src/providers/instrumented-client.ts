import type { SyncMetrics } from '../observability/metrics.js';
import type { SecretsClient } from './provider.js';
import { isProviderError } from './provider-errors.js';

type Operation = 'getSecret' | 'getSecretMap' | 'findSecrets' | 'validate';

/** Wraps a client so every call is counted and timed per store and outcome. */
export function instrumentClient(client: SecretsClient, store: string, metrics: SyncMetrics): SecretsClient {
  const timed = async <T>(operation: Operation, call: () => Promise<T>): Promise<T> => {
    const end = metrics.providerLatency.startTimer({ store, operation });
    try {
      const result = await call();
      metrics.providerRequests.inc({ store, operation, outcome: 'ok' });
      return result;
    } catch (err) {
      metrics.providerRequests.inc({ store, operation, outcome: isProviderError(err) ? err.errorClass : 'Unknown' });
      throw err;
    } finally {
      end();
    }
  };
  const readWhole = client.readWhole?.bind(client);
  return {
    getSecret: (ref, opts) => timed('getSecret', () => client.getSecret(ref, opts)),
    getSecretMap: (ref, opts) => timed('getSecretMap', () => client.getSecretMap(ref, opts)),
    // A whole read is counted as the operation it is made for: one provider call either way.
    ...(readWhole && { readWhole: (ref, opts, operation) => timed(operation, () => readWhole(ref, opts, operation)) }),
    findSecrets: (query, opts) => timed('findSecrets', () => client.findSecrets(query, opts)),
    validate: (opts) => timed('validate', () => client.validate(opts)),
    close: () => client.close(),
  };
}
