/**
 * The schemas the controllers parse Lockstep's objects with: the module {@link loadApiSchemas}
 * loads on first use (in the image, a chunk of its own with zod).
 */
export { ExternalSecretSpec, ExternalSecretStatus } from './external-secret.js';
export { ClusterSecretStoreSpec, SecretStoreStatus } from './secret-store.js';
