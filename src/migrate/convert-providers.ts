/** The four cloud providers' store fields, ESO's spelling → Lockstep's. */
import type { FieldPath } from '../check/manifest-reader.js';
import type { ObjectMigration } from './object-migration.js';
import type { StoreContext } from './convert-store.js';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const noAuth = (m: ObjectMigration, path: FieldPath, how: string) =>
  m.report('unsupported', [...path, 'auth'], `no auth: ESO then uses ${how}; Lockstep has no ambient credentials, name them in auth`);

export function convertAws(m: ObjectMigration, path: FieldPath, ctx: StoreContext): void {
  const service = m.get([...path, 'service']);
  if (service === 'ParameterStore') m.report('unsupported', [...path, 'service'], 'service ParameterStore: Lockstep reads AWS Secrets Manager only');
  m.drop(service === 'ParameterStore' ? 'review' : 'dropped', [...path, 'service'], `service ${String(service)}: the aws provider is Secrets Manager`);
  m.drop('dropped', [...path, 'secretsManager'], 'secretsManager holds PushSecret options; Lockstep does not push');
  m.drop('unsupported', [...path, 'prefix'], 'prefix has no Lockstep equivalent');
  const auth = [...path, 'auth'];
  if (!m.has(auth)) noAuth(m, path, "the controller's own AWS credentials (its ServiceAccount's IRSA role, instance profile)");
  if (m.has([...auth, 'jwt'])) convertAwsJwtChain(m, path, ctx);
  m.dropUnknown([...auth, 'secretRef'], ['accessKeyIDSecretRef', 'secretAccessKeySecretRef', 'sessionTokenSecretRef'], 'aws secretRef field');
  m.dropUnknown(auth, ['secretRef', 'jwt'], 'aws auth method');
  m.dropUnknown(path, ['region', 'role', 'additionalRoles', 'externalID', 'sessionTags', 'transitiveTagKeys', 'auth', 'endpoint'], 'aws field');
}

/**
 * With static keys ESO's chain is ours (additionalRoles in order, then role). With jwt, ESO exchanges
 * the token for the role in the ServiceAccount's annotation eks.amazonaws.com/role-arn, then assumes
 * additionalRoles and role; Lockstep exchanges it for role, then assumes additionalRoles.
 */
function convertAwsJwtChain(m: ObjectMigration, path: FieldPath, ctx: StoreContext): void {
  for (const field of ['externalID', 'sessionTags', 'transitiveTagKeys']) {
    m.drop('unsupported', [...path, field], `${field} with auth.jwt: Lockstep sends it only when static keys (auth.secretRef) assume role`);
  }
  const sa = [...path, 'auth', 'jwt', 'serviceAccountRef'];
  const name = m.get([...sa, 'name']);
  const namespace = (m.get([...sa, 'namespace']) as string | undefined) ?? ctx.namespace;
  const annotated = typeof name === 'string' ? ctx.serviceAccountAnnotations(namespace, name)?.['eks.amazonaws.com/role-arn'] : undefined;
  const role = m.get([...path, 'role']);
  const additional = m.get([...path, 'additionalRoles']);
  const chain = [...(Array.isArray(additional) ? (additional as unknown[]) : []), ...(typeof role === 'string' ? [role] : [])];
  if (annotated) {
    if (annotated === role && chain.length === 1) return;
    m.set([...path, 'role'], annotated);
    if (chain.length > 0) m.set([...path, 'additionalRoles'], chain);
    m.report('note', [...path, 'role'], `role is the ServiceAccount's eks.amazonaws.com/role-arn (ESO's web identity role); ESO's additionalRoles and role follow it in additionalRoles`);
  } else if (Array.isArray(additional) && additional.length > 0) {
    m.report('review', [...path, 'additionalRoles'], "with jwt ESO exchanges the token for the ServiceAccount's eks.amazonaws.com/role-arn, then assumes additionalRoles and role; Lockstep exchanges it for role, then assumes additionalRoles: set role to the annotation's role and append ESO's role to additionalRoles (the ServiceAccount is not among the inputs)");
  }
}

export function convertVault(m: ObjectMigration, path: FieldPath, ctx: StoreContext): void {
  if (!m.has([...path, 'path'])) {
    m.report('unsupported', [...path, 'path'], 'no path: ESO then reads the KV mount from each key; Lockstep needs the mount in path (and keys below it)');
  }
  m.drop('unsupported', [...path, 'caProvider'], 'caProvider (a CA read from a ConfigMap or Secret): put the base64 PEM in caBundle');
  convertVaultTls(m, path);
  m.drop('unsupported', [...path, 'headers'], 'headers has no Lockstep equivalent');
  m.drop('dropped', [...path, 'readYourWrites'], 'readYourWrites matters for writes; Lockstep only reads');
  m.drop('dropped', [...path, 'forwardInconsistent'], 'forwardInconsistent matters for writes; Lockstep only reads');
  const auth = [...path, 'auth'];
  if (!m.has(auth)) noAuth(m, path, 'no token');
  const appRole = [...auth, 'appRole'];
  if (m.has([...appRole, 'roleRef'])) m.drop('unsupported', [...appRole, 'roleRef'], 'appRole.roleRef (the RoleID read from a Secret): set roleId');
  m.dropUnknown(appRole, ['path', 'roleId', 'secretRef'], 'appRole field');
  const kube = [...auth, 'kubernetes'];
  m.drop('unsupported', [...kube, 'secretRef'], 'kubernetes.secretRef (a long-lived ServiceAccount token in a Secret): use serviceAccountRef');
  if (m.has(kube) && !m.has([...kube, 'serviceAccountRef']) && !ctx.clusterScoped) {
    m.report('unsupported', [...kube, 'serviceAccountRef'], "no serviceAccountRef: ESO then logs in as its own ServiceAccount, which Lockstep allows only on a ClusterSecretStore");
  }
  m.dropUnknown(kube, ['mountPath', 'role', 'serviceAccountRef'], 'kubernetes auth field');
  convertVaultJwt(m, [...auth, 'jwt']);
  for (const method of ['userPass', 'ldap']) m.dropUnknown([...auth, method], ['path', 'username', 'secretRef'], `${method} field`);
  const cert = [...auth, 'cert'];
  if (m.has(cert) && !m.has([...cert, 'clientCert'])) m.report('unsupported', [...cert, 'clientCert'], 'cert auth without clientCert: Lockstep needs the certificate (and secretRef, its key)');
  if (m.has(cert) && m.get([...path, 'server'])?.toString().startsWith('http:')) m.report('unsupported', cert, 'cert auth over plain http: the client certificate is presented in the TLS handshake');
  m.dropUnknown(cert, ['path', 'role', 'clientCert', 'secretRef'], 'cert auth field');
  for (const method of ['iam', 'gcp']) {
    m.drop('unsupported', [...auth, method], `Vault ${method} auth has no Lockstep equivalent yet`);
  }
  m.dropUnknown(auth, ['tokenSecretRef', 'appRole', 'kubernetes', 'jwt', 'userPass', 'ldap', 'cert'], 'vault auth method');
  m.dropUnknown(path, ['server', 'path', 'version', 'namespace', 'caBundle', 'tls', 'auth'], 'vault field');
}

/** tls: the client certificate on every request. ESO uses it only with both refs, each key defaulting to tls.crt / tls.key. */
function convertVaultTls(m: ObjectMigration, path: FieldPath): void {
  const tls = [...path, 'tls'];
  if (!m.has(tls)) return;
  const refs: [string, string][] = [['certSecretRef', 'tls.crt'], ['keySecretRef', 'tls.key']];
  m.dropUnknown(tls, refs.map(([field]) => field), 'tls field');
  const present = refs.filter(([field]) => m.has([...tls, field])).map(([field]) => field);
  if (present.length === 0) {
    m.drop('dropped', tls, 'tls without certSecretRef and keySecretRef: ESO presents no client certificate');
    return;
  }
  if (present.length === 1) {
    m.drop('unsupported', tls, `tls with ${present[0]} alone: ESO refuses such a store (both certSecretRef and keySecretRef are needed)`);
    return;
  }
  if (String(m.get([...path, 'server'])).startsWith('http:')) {
    m.drop('review', tls, 'tls over plain http: there is no TLS handshake, so ESO never presents the certificate; removed');
    return;
  }
  for (const [field, key] of refs) {
    const ref = [...tls, field];
    if (!m.get([...ref, 'key'])) {
      m.set([...ref, 'key'], key);
      m.report('note', [...ref, 'key'], `no key: ESO reads '${key}', now written out`);
    }
    m.dropUnknown(ref, ['name', 'key', 'namespace'], `tls.${field} field`);
  }
}

function convertVaultJwt(m: ObjectMigration, jwt: FieldPath): void {
  if (!m.has(jwt)) return;
  m.drop('unsupported', [...jwt, 'secretRef'], 'jwt.secretRef (a JWT kept in a Secret): Lockstep presents a ServiceAccount token (serviceAccountRef)');
  const token = [...jwt, 'kubernetesServiceAccountToken'];
  if (m.has(token)) {
    const audiences = m.get([...token, 'audiences']);
    m.move([...token, 'serviceAccountRef'], [...jwt, 'serviceAccountRef']);
    if (Array.isArray(audiences) && !m.has([...jwt, 'serviceAccountRef', 'audiences'])) m.set([...jwt, 'serviceAccountRef', 'audiences'], audiences);
    m.drop('dropped', [...token, 'expirationSeconds'], 'expirationSeconds: Lockstep requests short-lived tokens itself');
    m.remove([...token, 'audiences']);
    m.dropUnknown(token, [], 'kubernetesServiceAccountToken field');
    m.remove(token);
  } else if (!m.has([...jwt, 'serviceAccountRef'])) {
    m.report('unsupported', [...jwt, 'serviceAccountRef'], 'jwt without kubernetesServiceAccountToken: Lockstep needs a ServiceAccount whose token it presents');
  }
  m.dropUnknown(jwt, ['path', 'role', 'serviceAccountRef'], 'jwt auth field');
}

export function convertGcp(m: ObjectMigration, path: FieldPath, ctx: StoreContext): void {
  m.drop('unsupported', [...path, 'location'], 'location (regional secrets) has no Lockstep equivalent yet');
  const auth = [...path, 'auth'];
  if (!m.has(auth)) noAuth(m, path, "Application Default Credentials (the controller's GKE workload identity)");
  const wi = [...auth, 'workloadIdentity'];
  if (m.has(wi)) convertGkeWorkloadIdentity(m, path, wi, ctx);
  m.drop('unsupported', [...auth, 'workloadIdentityFederation'], 'workloadIdentityFederation (a credential configuration) has no Lockstep equivalent: use workloadIdentity with its audience');
  m.dropUnknown(auth, ['secretRef', 'workloadIdentity'], 'gcpsm auth method');
  m.dropUnknown(path, ['projectID', 'auth'], 'gcpsm field');
}

/** GKE workload identity: ESO derives the STS audience from the cluster and impersonates the SA's annotated Google account. */
function convertGkeWorkloadIdentity(m: ObjectMigration, provider: FieldPath, wi: FieldPath, ctx: StoreContext): void {
  const projectID = m.get([...provider, 'projectID']);
  const [flagProject, flagLocation, flagCluster] = ctx.gkeCluster?.split('/') ?? [];
  const named = m.has([...wi, 'clusterLocation']) && m.has([...wi, 'clusterName']);
  const clusterProject = m.get([...wi, 'clusterProjectID']) ?? (named ? undefined : flagProject) ?? projectID;
  const location = m.get([...wi, 'clusterLocation']) ?? flagLocation;
  const cluster = m.get([...wi, 'clusterName']) ?? flagCluster;
  if (!named && ctx.gkeCluster) m.report('note', wi, `the cluster is taken from --gke-cluster ${ctx.gkeCluster}`);
  if (typeof location !== 'string' || typeof cluster !== 'string') {
    m.report('unsupported', wi, 'workloadIdentity without clusterLocation and clusterName: ESO reads them from the GKE metadata server; Lockstep needs them to build the audience (or pass --gke-cluster PROJECT/LOCATION/NAME)');
  } else {
    m.set([...wi, 'audience'], `identitynamespace:${String(clusterProject)}.svc.id.goog:https://container.googleapis.com/v1/projects/${String(clusterProject)}/locations/${location}/clusters/${cluster}`);
  }
  for (const f of ['clusterProjectID', 'clusterLocation', 'clusterName']) m.remove([...wi, f]);
  const sa = [...wi, 'serviceAccountRef'];
  if (!m.has([...sa, 'audiences'])) m.set([...sa, 'audiences'], [`${String(clusterProject)}.svc.id.goog`]);
  const name = m.get([...sa, 'name']);
  const namespace = (m.get([...sa, 'namespace']) as string | undefined) ?? ctx.namespace;
  const email = typeof name === 'string' ? ctx.serviceAccountAnnotations(namespace, name)?.['iam.gke.io/gcp-service-account'] : undefined;
  if (email) m.set([...wi, 'serviceAccountEmail'], email);
  else {
    m.report('review', sa, `ESO impersonates the Google service account in the ServiceAccount's annotation iam.gke.io/gcp-service-account; the ServiceAccount is not among the inputs: set workloadIdentity.serviceAccountEmail to it, or grant the role to the federated principal`);
  }
  m.dropUnknown(wi, ['serviceAccountRef', 'audience', 'serviceAccountEmail'], 'workloadIdentity field');
}

export function convertAzure(m: ObjectMigration, path: FieldPath, ctx: StoreContext): void {
  const authType = (m.get([...path, 'authType']) as string | undefined) ?? 'ServicePrincipal';
  m.remove([...path, 'authType']);
  if (m.get([...path, 'environmentType']) === 'GermanCloud') m.drop('unsupported', [...path, 'environmentType'], 'environmentType GermanCloud (retired) has no Lockstep equivalent');
  m.drop('unsupported', [...path, 'customCloudConfig'], 'customCloudConfig: set authorityHost instead');
  const secretRef = [...path, 'authSecretRef'];
  m.drop('unsupported', [...secretRef, 'clientCertificate'], 'authSecretRef.clientCertificate (certificate credentials) has no Lockstep equivalent');
  if (m.has([...secretRef, 'tenantId'])) {
    m.drop(m.has([...path, 'tenantId']) ? 'dropped' : 'unsupported', [...secretRef, 'tenantId'], 'authSecretRef.tenantId (the tenant read from a Secret): set tenantId');
  }
  if (authType === 'ServicePrincipal') convertAzureServicePrincipal(m, path, secretRef);
  else if (authType === 'ManagedIdentity') convertAzureManagedIdentity(m, path);
  else if (authType === 'WorkloadIdentity') convertAzureWorkloadIdentity(m, path, secretRef, ctx);
  else m.report('unsupported', [...path, 'authType'], `authType ${authType} has no Lockstep equivalent`);
  m.drop('unsupported', secretRef, 'authSecretRef fields left over have no Lockstep equivalent');
  m.drop('unsupported', [...path, 'serviceAccountRef'], 'serviceAccountRef is used only with authType WorkloadIdentity');
  m.drop('unsupported', [...path, 'identityId'], 'identityId is used only with authType ManagedIdentity');
  m.dropUnknown(path, ['vaultUrl', 'tenantId', 'environmentType', 'auth'], 'azurekv field');
}

function convertAzureServicePrincipal(m: ObjectMigration, path: FieldPath, secretRef: FieldPath): void {
  const auth = [...path, 'auth', 'servicePrincipal'];
  if (!m.has([...secretRef, 'clientId']) || !m.has([...secretRef, 'clientSecret'])) {
    m.report('unsupported', secretRef, 'authType ServicePrincipal needs authSecretRef.clientId and authSecretRef.clientSecret (Lockstep has no certificate credentials)');
    return;
  }
  m.move([...secretRef, 'clientId'], [...auth, 'clientIdSecretRef']);
  m.move([...secretRef, 'clientSecret'], [...auth, 'clientSecretSecretRef']);
  if (m.keys(secretRef).length === 0) m.remove(secretRef);
}

function convertAzureManagedIdentity(m: ObjectMigration, path: FieldPath): void {
  const identityId = m.get([...path, 'identityId']);
  const auth = [...path, 'auth', 'managedIdentity'];
  if (identityId === undefined) m.set(auth, {});
  else if (typeof identityId === 'string' && GUID.test(identityId)) {
    m.move([...path, 'identityId'], [...auth, 'clientId']);
  } else {
    m.drop('unsupported', [...path, 'identityId'], `identityId '${String(identityId)}' is not a client ID (a GUID); Lockstep selects a user-assigned identity by client ID`);
  }
}

function convertAzureWorkloadIdentity(m: ObjectMigration, path: FieldPath, secretRef: FieldPath, ctx: StoreContext): void {
  const sa = [...path, 'serviceAccountRef'];
  if (!m.has(sa)) {
    m.report('unsupported', [...path, 'authType'], "WorkloadIdentity without serviceAccountRef: ESO then uses its own pod's federated token; Lockstep needs serviceAccountRef");
    return;
  }
  const name = m.get([...sa, 'name']);
  const namespace = (m.get([...sa, 'namespace']) as string | undefined) ?? ctx.namespace;
  const annotations = typeof name === 'string' ? ctx.serviceAccountAnnotations(namespace, name) : undefined;
  const auth = [...path, 'auth', 'workloadIdentity'];
  m.move(sa, [...auth, 'serviceAccountRef']);
  if (m.has([...secretRef, 'clientId'])) {
    m.drop('unsupported', [...secretRef, 'clientId'], 'authSecretRef.clientId (the client ID read from a Secret): Lockstep takes workloadIdentity.clientId as text');
  }
  const clientId = annotations?.['azure.workload.identity/client-id'];
  if (clientId) m.set([...auth, 'clientId'], clientId);
  else m.report('unsupported', [...auth, 'clientId'], "ESO reads the client ID from the ServiceAccount's annotation azure.workload.identity/client-id, and the ServiceAccount is not among the inputs: set workloadIdentity.clientId");
  const tenant = annotations?.['azure.workload.identity/tenant-id'];
  if (!m.has([...path, 'tenantId']) && tenant) m.set([...path, 'tenantId'], tenant);
  else if (!m.has([...path, 'tenantId'])) m.report('unsupported', [...path, 'tenantId'], "no tenantId: ESO reads it from the ServiceAccount's annotation azure.workload.identity/tenant-id or the environment; set tenantId");
}
