import type { Resource } from '../kube/kube-port.js';
import { GROUP, VERSION } from './constants.js';

/** REST descriptors of Lockstep's own kinds. */
export const LockstepResources = {
  externalSecret: { group: GROUP, version: VERSION, plural: 'externalsecrets', kind: 'ExternalSecret', namespaced: true },
  secretStore: { group: GROUP, version: VERSION, plural: 'secretstores', kind: 'SecretStore', namespaced: true },
  clusterSecretStore: { group: GROUP, version: VERSION, plural: 'clustersecretstores', kind: 'ClusterSecretStore', namespaced: false },
} as const satisfies Record<string, Resource>;
