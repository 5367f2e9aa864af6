// A team that may only create a SecretStore in its namespace gains nothing more (#10 points 1-3),
// on the real apiserver with the real operator:
// - no server-side request forgery: endpoints at link-local and metadata addresses, the apiserver
//   itself (by address, and by a name that resolves to it), a name that resolves to a link-local
//   address, and plain http off loopback are refused (Ready=False, EndpointNotAllowed), and
//   listeners standing at those addresses record that nothing was dialed;
// - no ambient identity: Vault kubernetes auth as the operator's own ServiceAccount and Azure
//   managed identity are refused on a SecretStore (IdentityNotAllowed); AWS and GCP have no
//   method without a credential reference (the apiserver refuses a store without auth);
// - no ServiceAccount token the apiserver accepts: a store asking for the apiserver's audience, or
//   for none, is refused (TokenAudienceNotAllowed) and no TokenRequest is made.
// A ClusterSecretStore, which a cluster admin writes, is not limited: the same metadata endpoint
// in one is dialed, which shows the listeners would have seen the namespaced stores' connections.
import { generateKeyPairSync } from 'node:crypto';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, getJson, readyOf, type Condition } from '../support/resources.js';
import { addLoopbackAddresses, addMetadataAddresses, type Recorder, startRecorder } from './connection-recorder.js';

let cluster: TestCluster;
let op: RunningOperator;
let ns: string;
let opNs: string;
let apiserverPort: number;
let issuer: string;
let metadataListeners = false;
const recorders: Recorder[] = [];
let loopback: Recorder;
/** A control-plane member the kubeconfig does not name (TEST-NET-1), listed as the apiserver's own reconciler would. */
const MEMBER = '192.0.2.44';
let member: Recorder | undefined;
const clusterStores: string[] = [];

const TOKEN_REQUESTS = { verb: 'create', resource: 'serviceaccounts/token' };

function store(name: string, provider: Record<string, unknown>, kind = 'SecretStore'): string {
  const metadata = kind === 'SecretStore' ? { name, namespace: ns } : { name };
  return JSON.stringify({ apiVersion: 'lockstep.dev/v1alpha1', kind, metadata, spec: { provider } });
}

async function notReady(name: string, kind = 'secretstore'): Promise<Condition> {
  return eventually(async () => {
    const r = readyOf(await getJson(cluster, kind, kind === 'secretstore' ? ns : undefined, name));
    return r?.status === 'False' ? r : undefined;
  }, 30_000, `${kind} ${name} Ready=False`);
}

const vault = (server: string, auth: Record<string, unknown> = { tokenSecretRef: { name: 'vault-token', key: 'token' } }) => ({
  vault: { server, path: 'secret', auth },
});

function serviceAccountKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return JSON.stringify({
    type: 'service_account',
    client_email: 'reader@tenant-project.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    private_key_id: 'k1',
    project_id: 'tenant-project',
  });
}

beforeAll(async () => {
  cluster = loadTestCluster();
  const server = (await cluster.kubectl(['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).trim();
  apiserverPort = Number(new URL(server).port);
  issuer = (JSON.parse(await cluster.kubectl(['get', '--raw', '/.well-known/openid-configuration'])) as { issuer: string }).issuer;
  ns = await cluster.createNamespace('tenant');
  opNs = await cluster.createNamespace('tenant-op');
  await cluster.kubectl(['create', 'serviceaccount', 'app', '-n', ns]);
  await cluster.kubectl(['create', 'secret', 'generic', 'vault-token', '-n', ns, '--from-literal=token=tenant-token']);
  await cluster.kubectl(['create', 'secret', 'generic', 'gcp-key', '-n', ns, `--from-literal=key.json=${serviceAccountKey()}`]);
  loopback = await startRecorder('127.0.0.1');
  recorders.push(loopback);
  metadataListeners = await addMetadataAddresses();
  if (metadataListeners) {
    for (const host of ['169.254.169.254', 'fd00:ec2::254']) for (const port of [80, 443]) recorders.push(await startRecorder(host, port));
  }
  if (await addLoopbackAddresses([MEMBER])) {
    member = await startRecorder(MEMBER, 8200);
    recorders.push(member);
  }
  // An HA control plane: every API server lists its advertise address in the kubernetes Service's
  // EndpointSlice. The test apiserver runs --endpoint-reconciler-type=none, so the test writes the
  // slice the way the reconciler of a second member would (the apiserver refuses loopback addresses here).
  await apply(cluster, JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4', endpoints: [{ addresses: [MEMBER] }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
  }));
  await prepareCluster(cluster.kubeconfigPath, opNs);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
}, 180_000);

afterAll(async () => {
  await op?.stop();
  for (const name of clusterStores) await cluster.kubectl(['delete', 'clustersecretstore', name, '--ignore-not-found']).catch(() => undefined);
  await cluster?.kubectl(['delete', 'endpointslice', 'kubernetes', '-n', 'default', '--ignore-not-found']).catch(() => undefined);
  await Promise.all(recorders.map((r) => r.close()));
  await cluster?.deleteNamespace(ns);
  await cluster?.deleteNamespace(opNs);
});

const metadataConnections = () => recorders.filter((r) => r !== loopback && r !== member).reduce((n, r) => n + r.connections, 0);

describe('SecretStore endpoints: no server-side request forgery', () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['vault-imds', vault('http://169.254.169.254/'), /spec\.provider\.vault\.server 'http:\/\/169\.254\.169\.254\/' is a link-local address/],
    ['vault-imds-hex', vault('http://0xa9fea9fe/'), /is a link-local address/],
    ['vault-gce-name', vault('http://metadata.google.internal/'), /is a cloud metadata service/],
    ['aws-imds-v6', { aws: { region: 'eu-west-1', endpoint: 'https://[fd00:ec2::254]/', auth: { secretRef: {
      accessKeyIDSecretRef: { name: 'vault-token', key: 'token' }, secretAccessKeySecretRef: { name: 'vault-token', key: 'token' } } } } },
    /spec\.provider\.aws\.endpoint .* is a cloud metadata address/],
    ['azure-imds', { azure: { vaultUrl: 'https://169.254.169.254', tenantId: 'contoso.onmicrosoft.com', auth: { servicePrincipal: {
      clientIdSecretRef: { name: 'vault-token', key: 'token' }, clientSecretSecretRef: { name: 'vault-token', key: 'token' } } } } },
    /spec\.provider\.azure\.vaultUrl .* is a link-local address/],
    ['gcp-sts-imds', { gcp: { projectID: 'tenant-project', auth: { workloadIdentity: {
      serviceAccountRef: { name: 'app', audiences: ['tenant-pool'] }, audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k',
      stsEndpoint: 'https://169.254.169.254/computeMetadata/v1/token' } } } },
    /stsEndpoint .* is a link-local address/],
    ['vault-http-remote', vault('http://vault.example.test:8200'), /has no TLS; a SecretStore may use plain http only to a loopback address/],
  ];

  it.each(refused)('%s is refused with a message naming the field and the reason', async (name, provider, message) => {
    await apply(cluster, store(name, provider));
    const ready = await notReady(name);
    expect(ready.reason).toBe('EndpointNotAllowed');
    expect(ready.message).toMatch(message);
    expect(ready.message).toMatch(/a SecretStore may|loopback/);
  });

  it('refuses the apiserver itself, by its address and by a name that resolves to it', async () => {
    await apply(cluster, store('vault-apiserver', vault(`https://127.0.0.1:${apiserverPort}`)));
    expect((await notReady('vault-apiserver')).message).toMatch(/is the Kubernetes API server/);
    // "localhost" passes the check of the spec's text; the check of the address dialed refuses it.
    await apply(cluster, store('vault-apiserver-name', vault(`https://localhost:${apiserverPort}`)));
    const byName = await notReady('vault-apiserver-name');
    expect(byName.reason).toBe('EndpointNotAllowed');
    expect(byName.message).toMatch(new RegExp(`connecting to 'localhost:${apiserverPort}' was refused: it resolves to (127\\.0\\.0\\.1|::1), the Kubernetes API server`));
  });

  it('refuses the apiserver\'s other addresses, learnt from its serving certificate, on every port', async () => {
    // The test apiserver's certificate names 10.0.0.1 (the kubernetes Service IP), which the kubeconfig does not.
    await apply(cluster, store('vault-apiserver-san', vault('https://10.0.0.1:8200')));
    const ready = await notReady('vault-apiserver-san');
    expect(ready.reason).toBe('EndpointNotAllowed');
    expect(ready.message).toMatch(/'https:\/\/10\.0\.0\.1:8200' is the Kubernetes API server/);
  });

  it('refuses the other members of an HA control plane, learnt from the kubernetes EndpointSlice, on every port', async () => {
    await apply(cluster, store('vault-apiserver-member', vault(`https://${MEMBER}:8200`)));
    const ready = await notReady('vault-apiserver-member');
    expect(ready.reason).toBe('EndpointNotAllowed');
    expect(ready.message).toMatch(/'https:\/\/192\.0\.2\.44:8200' is the Kubernetes API server/);
    expect(member?.connections ?? 0).toBe(0);
  });

  it('refuses a gRPC endpoint whose name the system resolver turns into a link-local address, at dial time', async () => {
    // 2852039166 is not an IP literal to Node or to the CRD, but getaddrinfo (inet_aton) resolves it to 169.254.169.254.
    await apply(cluster, store('gcp-endpoint-name', { gcp: { projectID: 'tenant-project', endpoint: '2852039166:443',
      auth: { secretRef: { secretAccessKeySecretRef: { name: 'gcp-key', key: 'key.json' } } } } }));
    const ready = await notReady('gcp-endpoint-name');
    expect(ready.reason).toBe('EndpointNotAllowed');
    expect(ready.message).toMatch(/'2852039166:443' was refused: it resolves to 169\.254\.169\.254, a link-local address/);
  });

  it('dialed none of the refused addresses', () => {
    expect(metadataConnections()).toBe(0);
    expect(loopback.connections).toBe(0);
  });

  it('still lets a SecretStore reach a loopback peer over plain http', async () => {
    await apply(cluster, store('vault-loopback', vault(`http://127.0.0.1:${loopback.port}`)));
    const ready = await notReady('vault-loopback');
    expect(ready.reason).toBe('ValidationFailed'); // the recorder is no Vault: it answers 503
    expect(loopback.connections).toBeGreaterThan(0);
    await cluster.kubectl(['delete', 'secretstore', 'vault-loopback', '-n', ns]); // it would keep retrying
  });

  it('does not limit a ClusterSecretStore: the same metadata endpoint is dialed', async () => {
    if (!metadataListeners) return; // needs the private network namespace of `make test`
    const name = `${ns}-cluster-imds`;
    clusterStores.push(name);
    await apply(cluster, store(name, vault('http://169.254.169.254/', { tokenSecretRef: { name: 'vault-token', key: 'token', namespace: ns } }), 'ClusterSecretStore'));
    const ready = await notReady(name, 'clustersecretstore');
    expect(ready.reason).toBe('ValidationFailed');
    expect(metadataConnections()).toBeGreaterThan(0);
  });

  it('does not limit a ClusterSecretStore: the control-plane member is dialed', async () => {
    if (!member) return; // needs the private network namespace of `make test`
    const name = `${ns}-cluster-member`;
    clusterStores.push(name);
    await apply(cluster, store(name, vault(`http://${MEMBER}:8200/`, { tokenSecretRef: { name: 'vault-token', key: 'token', namespace: ns } }), 'ClusterSecretStore'));
    expect((await notReady(name, 'clustersecretstore')).reason).toBe('ValidationFailed');
    expect(member.connections).toBeGreaterThan(0);
  });
});

describe('SecretStore auth: no ambient identity', () => {
  it('refuses Vault kubernetes auth as the operator\'s own ServiceAccount', async () => {
    await apply(cluster, store('vault-own-sa', vault(`http://127.0.0.1:${loopback.port}`, { kubernetes: { role: 'app' } })));
    const ready = await notReady('vault-own-sa');
    expect(ready.reason).toBe('IdentityNotAllowed');
    expect(ready.message).toMatch(/spec\.provider\.vault\.auth\.kubernetes uses the operator's own ServiceAccount.*use a ClusterSecretStore, or a credential reference/);
  });

  it('refuses Azure managed identity, with or without an endpoint, and dials nothing', async () => {
    const identityEndpoint = await startRecorder('127.0.0.1');
    recorders.push(identityEndpoint);
    await apply(cluster, store('azure-mi', { azure: { vaultUrl: 'https://tenant.vault.azure.net', auth: { managedIdentity: {} } } }));
    await apply(cluster, store('azure-mi-endpoint', { azure: { vaultUrl: 'https://tenant.vault.azure.net', auth: { managedIdentity: {
      endpoint: `http://127.0.0.1:${identityEndpoint.port}/metadata/identity/oauth2/token` } } } }));
    for (const name of ['azure-mi', 'azure-mi-endpoint']) {
      const ready = await notReady(name);
      expect(ready.reason).toBe('IdentityNotAllowed');
      expect(ready.message).toMatch(/auth\.managedIdentity uses the managed identity of the node or pod the operator runs on.*use a ClusterSecretStore, or a credential reference \(auth\.servicePrincipal or auth\.workloadIdentity\)/);
    }
    expect(identityEndpoint.connections).toBe(0);
  });

  it('offers AWS and GCP no method without a credential reference: the apiserver refuses such a store', async () => {
    await expect(apply(cluster, store('aws-ambient', { aws: { region: 'eu-west-1', auth: {} } }))).rejects.toThrow(/auth/);
    await expect(apply(cluster, store('aws-no-auth', { aws: { region: 'eu-west-1' } }))).rejects.toThrow(/auth/);
    await expect(apply(cluster, store('gcp-ambient', { gcp: { projectID: 'tenant-project', auth: {} } }))).rejects.toThrow(/auth/);
  });
});

describe('ServiceAccount tokens: never one the apiserver accepts', () => {
  it('refuses a store asking for the apiserver\'s audience or for none, and requests no token', async () => {
    const tokensBefore = await op.counter('lockstep_kube_requests_total', TOKEN_REQUESTS);
    const provider = await startRecorder('127.0.0.1');
    recorders.push(provider);
    const cases: [string, Record<string, unknown>][] = [
      ['vault-k8s-issuer', vault(`http://127.0.0.1:${provider.port}`, { kubernetes: { role: 'app', serviceAccountRef: { name: 'app', audiences: [issuer] } } })],
      ['vault-k8s-no-audience', vault(`http://127.0.0.1:${provider.port}`, { kubernetes: { role: 'app', serviceAccountRef: { name: 'app' } } })],
      ['vault-jwt-no-audience', vault(`http://127.0.0.1:${provider.port}`, { jwt: { serviceAccountRef: { name: 'app' } } })],
      ['aws-jwt-issuer', { aws: { region: 'eu-west-1', endpoint: `http://127.0.0.1:${provider.port}`, role: 'arn:aws:iam::123456789012:role/reader',
        auth: { jwt: { serviceAccountRef: { name: 'app', audiences: [`${issuer}/`] } } } } }],
      ['azure-wi-issuer', { azure: { vaultUrl: 'https://tenant.vault.azure.net', tenantId: 'contoso.onmicrosoft.com', auth: { workloadIdentity: {
        clientId: '00000000-0000-0000-0000-000000000001', serviceAccountRef: { name: 'app', audiences: ['https://kubernetes.default.svc.cluster.local'] } } } } }],
      ['gcp-wi-no-audience', { gcp: { projectID: 'tenant-project', auth: { workloadIdentity: { serviceAccountRef: { name: 'app' }, audience: 'tenant-pool' } } } }],
    ];
    for (const [name, provider] of cases) await apply(cluster, store(name, provider));
    for (const [name] of cases) {
      const ready = await notReady(name);
      expect(ready.reason).toBe('TokenAudienceNotAllowed');
      expect(ready.message).toMatch(/serviceAccountRef asks for a token (without an audience|with audience '[^']+'), which the Kubernetes API server (would accept|accepts)/);
    }
    expect(await op.counter('lockstep_kube_requests_total', TOKEN_REQUESTS)).toBe(tokensBefore);
    expect(provider.connections).toBe(0);
  });

  it('requests a 10-minute token with the provider\'s own audience (the counter sees it)', async () => {
    const tokensBefore = await op.counter('lockstep_kube_requests_total', TOKEN_REQUESTS);
    await apply(cluster, store('vault-k8s-vault-audience', vault(`http://127.0.0.1:${loopback.port}`, {
      kubernetes: { role: 'app', serviceAccountRef: { name: 'app', audiences: ['vault'] } },
    })));
    expect((await notReady('vault-k8s-vault-audience')).reason).toBe('ValidationFailed'); // the recorder is no Vault
    expect(await op.counter('lockstep_kube_requests_total', TOKEN_REQUESTS)).toBeGreaterThan(tokensBefore);
  });
});
