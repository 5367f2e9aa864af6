/**
 * External Secrets Operator's API: its groups and kinds, and the field names it has that Lockstep
 * has not (or spells differently), so `lockstep check` can say "run `lockstep migrate`" instead of
 * only "unknown field".
 */
export const ESO_GROUPS = ['external-secrets.io', 'generators.external-secrets.io'];

export function isEsoApiVersion(apiVersion: unknown): boolean {
  return typeof apiVersion === 'string' && ESO_GROUPS.includes(apiVersion.split('/')[0] ?? '');
}

/** Field names that only ESO manifests carry (anywhere in a spec). */
export const ESO_ONLY_FIELDS = new Set([
  'controller',
  'retrySettings',
  'service',
  'additionalRoles',
  'externalID',
  'sessionTags',
  'transitiveTagKeys',
  'prefix',
  'secretsManager',
  'authType',
  'authSecretRef',
  'identityId',
  'customCloudConfig',
  'caProvider',
  'readYourWrites',
  'forwardInconsistent',
  'cert',
  'iam',
  'workloadIdentityFederation',
  'clusterLocation',
  'clusterName',
  'clusterProjectID',
  'location',
  'kubernetesServiceAccountToken',
  'roleRef',
  'engineVersion',
  'templateFrom',
  'literal',
  'sourceRef',
  'metadataPolicy',
  'nullBytePolicy',
  'transform',
  'deletionGracePeriod',
]);
