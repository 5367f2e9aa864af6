// A Vault store's `tls` (ESO's provider.vault.tls): the client certificate presented on every
// request, against an OpenBao listener that requires and verifies client certificates
// (tls_require_and_verify_client_cert, beside the dev server's own listener, which seeds it). The
// login (userpass), the token check and the reads all go through that listener. Without `tls` the
// listener asks for a certificate, and with a certificate of another issuer it refuses it: both are
// InvalidConfig naming the certificate, the store Ready=False. A certificate renewed in its Secret
// is used from the next login on, by the same client.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { freePort } from '../peers/peer-support.js';
import { startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf, type Condition } from '../support/resources.js';
import type { VaultProviderSpec } from '../../src/api/providers/vault.js';
import { SecretScrubber } from '../../src/observability/secret-scrubber.js';
import type { SecretsClient, StoreContext } from '../../src/providers/provider.js';
import { InvalidConfigError } from '../../src/providers/provider-errors.js';
import { createVaultProvider } from '../../src/providers/vault/vault-provider.js';

const exec = promisify(execFile);
const run = Math.random().toString(16).slice(2, 8);
const PASSWORD = `mtls-user-${run}-pw`;
const VALUE = `vault-mtls-e2e-${run}-value`;

interface Pem {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

/** A P-256 key and a certificate, signed by `ca` or self-signed, valid one day. */
async function certificate(dir: string, name: string, ext: string, ca?: { cert: string; key: string }): Promise<Pem> {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, `${ext}\n`);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-subj', `/CN=${name}`];
  if (!ca) {
    await exec('openssl', ['req', '-x509', ...key, '-days', '1', '-out', certFile, '-addext', ext]);
  } else {
    const csr = join(dir, `${name}.csr`);
    await exec('openssl', ['req', ...key, '-out', csr]);
    await exec('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '1', '-out', certFile, '-extfile', extFile]);
  }
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
}

let dir: string;
let peer: VaultPeer;
let mtlsEndpoint: string;
let caPem: string;
let client: Pem;
let renewed: Pem;
let stranger: Pem;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockstep-vault-mtls-'));
  const ca = await certificate(dir, 'test-ca', 'basicConstraints=critical,CA:TRUE');
  const issuer = { cert: ca.certFile, key: ca.keyFile };
  const server = await certificate(dir, 'server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth', issuer);
  client = await certificate(dir, 'lockstep', 'extendedKeyUsage=clientAuth', issuer);
  renewed = await certificate(dir, 'lockstep-renewed', 'extendedKeyUsage=clientAuth', issuer);
  stranger = await certificate(dir, 'stranger', 'extendedKeyUsage=clientAuth');
  caPem = ca.certPem;
  const port = await freePort();
  mtlsEndpoint = `https://127.0.0.1:${port}`;
  const config = join(dir, 'mtls.hcl');
  await writeFile(config, [
    'listener "tcp" {',
    `  address = "127.0.0.1:${port}"`,
    `  tls_cert_file = "${server.certFile}"`,
    `  tls_key_file = "${server.keyFile}"`,
    `  tls_client_ca_file = "${ca.certFile}"`,
    '  tls_require_and_verify_client_cert = true',
    '}',
    '',
  ].join('\n'));
  peer = await startVaultPeer({
    extraArgs: [`-config=${config}`],
    seed: async (p) => {
      await p.admin('PUT', 'sys/policies/acl/mtls-read', { policy: 'path "secret/data/*" { capabilities = ["read"] }' });
      await p.admin('POST', 'sys/auth/userpass', { type: 'userpass' });
      await p.admin('POST', 'auth/userpass/users/lockstep', { password: PASSWORD, token_policies: 'mtls-read', token_ttl: '1h' });
    },
  });
  await peer.admin('POST', 'secret/data/team/db', { data: { password: VALUE } });
}, 120_000);

afterAll(async () => {
  await peer?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const b64 = (text: string) => Buffer.from(text).toString('base64');
const signal = () => AbortSignal.timeout(15_000);

describe('vault tls: a client certificate on every request (provider)', () => {
  const secrets: Record<string, Record<string, string>> = {};
  const clients: SecretsClient[] = [];
  const provider = createVaultProvider();
  const ctx: StoreContext = {
    namespace: 'team-a', storeKind: 'SecretStore', storeName: 'mtls', log: pino({ level: 'silent' }), scrubber: new SecretScrubber(),
    credentials: {
      async readSecretKey({ name, key }) {
        const value = secrets[name]?.[key];
        if (value === undefined) throw new InvalidConfigError(`Secret '${name}' has no key '${key}'`);
        return value;
      },
      requestServiceAccountToken: () => Promise.reject(new Error('unexpected')),
    },
  };
  const spec = (tls?: string): VaultProviderSpec => ({
    server: mtlsEndpoint, path: 'secret', caBundle: b64(caPem),
    auth: { userPass: { username: 'lockstep', secretRef: { name: 'userpass', key: 'password' } } },
    ...(tls ? { tls: { certSecretRef: { name: tls, key: 'tls.crt' }, keySecretRef: { name: tls, key: 'tls.key' } } } : {}),
  });
  const connect = async (s: VaultProviderSpec) => {
    expect(provider.validateConfig(s)).toEqual([]);
    const c = await provider.connect(s, ctx);
    clients.push(c);
    return c;
  };

  beforeAll(() => {
    secrets.userpass = { password: PASSWORD };
    for (const [name, pem] of [['client', client], ['stranger', stranger]] as const) secrets[name] = { 'tls.crt': pem.certPem, 'tls.key': pem.keyPem };
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
  });

  it('logs in, checks the token and reads through a listener that requires a client certificate', async () => {
    const c = await connect(spec('client'));
    await c.validate({ signal: signal() });
    expect(new TextDecoder().decode(await c.getSecret({ key: 'team/db', property: 'password' }, { signal: signal() }))).toBe(VALUE);
  });

  it('without tls the listener asks for a certificate; with one of another issuer it refuses it: InvalidConfig, naming the certificate', async () => {
    const none = await (await connect(spec())).validate({ signal: signal() }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(InvalidConfigError);
    expect((none as Error).message).toMatch(/Vault requires a TLS client certificate \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\); set tls\.certSecretRef and tls\.keySecretRef/);
    const other = await (await connect(spec('stranger'))).validate({ signal: signal() }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(InvalidConfigError);
    expect((other as Error).message).toMatch(/Vault refused the TLS client certificate \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\)/);
    console.log(`no client certificate: ${(none as Error).message}\nanother issuer's: ${(other as Error).message}`);
  });

  it('a certificate renewed in its Secret is used at the next login, by the same client', async () => {
    secrets.rotating = { 'tls.crt': stranger.certPem, 'tls.key': stranger.keyPem };
    const c = await connect(spec('rotating'));
    await expect(c.validate({ signal: signal() })).rejects.toThrow(/refused the TLS client certificate/);
    secrets.rotating = { 'tls.crt': renewed.certPem, 'tls.key': renewed.keyPem };
    await c.validate({ signal: signal() });
    expect(new TextDecoder().decode(await c.getSecret({ key: 'team/db', property: 'password' }, { signal: signal() }))).toBe(VALUE);
  });
});

describe('vault tls through the operator', () => {
  let cluster: TestCluster;
  let op: RunningOperator;
  let ns: string;
  let opNs: string;

  beforeAll(async () => {
    cluster = loadTestCluster();
    ns = await cluster.createNamespace('vault-mtls');
    await cluster.kubectl(['-n', ns, 'create', 'secret', 'generic', 'userpass', `--from-literal=password=${PASSWORD}`]);
    for (const [name, pem] of [['client-tls', client], ['stranger-tls', stranger]] as const) {
      await cluster.kubectl(['-n', ns, 'create', 'secret', 'tls', name, `--cert=${pem.certFile}`, `--key=${pem.keyFile}`]);
    }
    opNs = await cluster.createNamespace('ops');
    await prepareCluster(cluster.kubeconfigPath, opNs);
    op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
  }, 120_000);

  afterAll(async () => {
    await op?.stop();
    if (ns) await cluster.deleteNamespace(ns);
    if (opNs) await cluster.deleteNamespace(opNs);
  });

  const store = (name: string, tlsSecret?: string) => JSON.stringify({
    apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name, namespace: ns },
    spec: { provider: { vault: {
      server: mtlsEndpoint, path: 'secret', caBundle: b64(caPem),
      ...(tlsSecret ? { tls: { certSecretRef: { name: tlsSecret, key: 'tls.crt' }, keySecretRef: { name: tlsSecret, key: 'tls.key' } } } : {}),
      auth: { userPass: { username: 'lockstep', secretRef: { name: 'userpass', key: 'password' } } },
    } } },
  });
  const ready = (kind: string, name: string, status: 'True' | 'False'): Promise<Condition> => eventually(async () => {
    const r = readyOf(await getJson(cluster, kind, ns, name));
    return r?.status === status ? r : undefined;
  }, 30_000, `${kind} ${name} Ready=${status}`);

  it('a store whose tls names a kubernetes.io/tls Secret syncs through the mutual-TLS listener', async () => {
    await apply(cluster, store('mtls', 'client-tls'));
    await ready('secretstore', 'mtls', 'True');
    await apply(cluster, externalSecret(ns, 'db', { secretStoreRef: { name: 'mtls' }, data: [{ secretKey: 'password', remoteRef: { key: 'team/db', property: 'password' } }] }));
    await ready('externalsecret', 'db', 'True');
    expect(decodeData(await getJson(cluster, 'secret', ns, 'db'))).toEqual({ password: VALUE });
  });

  it('without tls, or with a certificate the listener does not trust, the store is Ready=False saying so', async () => {
    await apply(cluster, store('no-tls'));
    await apply(cluster, store('stranger', 'stranger-tls'));
    const none = await ready('secretstore', 'no-tls', 'False');
    expect(none.message).toContain('Vault requires a TLS client certificate');
    const other = await ready('secretstore', 'stranger', 'False');
    expect(other.message).toContain('Vault refused the TLS client certificate');
    console.log(`store without tls: ${none.reason}: ${none.message}\nstore with a stranger's certificate: ${other.reason}: ${other.message}`);
  });

  it('never prints a key, a password or a value', () => {
    expect(findLeaks(op.output(), [client.keyPem.trim(), stranger.keyPem.trim(), PASSWORD, VALUE])).toEqual([]);
  });
});
