// `lockstep migrate` on a realistic ESO GitOps repository (e2e/migrate/eso-repo: Helm-rendered
// multi-document output, stores for all four providers, Go templates, find / extract / rewrite),
// then `lockstep check`, a server-side dry run of every converted object on the real apiserver,
// and a real sync of what can run here: the Vault store on the OpenBao peer, the AWS store on moto
// (with an endpoint overlay, as a kustomize patch would add), and the shared fake store, checking
// each synced Secret's keys and values.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseAllDocuments } from 'yaml';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { startAwsPeer, type AwsPeer } from '../peers/aws/aws-peer.js';
import { startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { decodeData, getJson, readyOf } from '../support/resources.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
const ROOT = resolve(import.meta.dirname, '../..');
const REPO = join(import.meta.dirname, 'eso-repo');
const exec = promisify(execFile);

let cluster: TestCluster;
let vault: VaultPeer;
let aws: AwsPeer;
let op: RunningOperator | undefined;
let ns: string;
let opNs: string;
let css: string;
let work: string;
const TLS_CRT = '-----BEGIN CERTIFICATE-----\nMIIBmigrate-e2e\n-----END CERTIFICATE-----\n';
/** Chosen so that its base64url form has '-' and '_' (Auto must try Base64URL after Base64 fails). */
const TLS_KEY = '-----BEGIN PRIVATE KEY-----\n\u00fb\u00ff\u00fe?>~key\n-----END PRIVATE KEY-----\n';
const served = ['up-e2e-password', 'pw-e2e-vault', 'sk-e2e-stripe', 'acme-key-e2e', 'globex-key-e2e', 'wh-e2e-github', 'smtp-e2e-pw'];

/** Runs the lockstep CLI from source; resolves with its exit code and output (never rejects on exit 1/2). */
async function lockstep(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(join(ROOT, 'node_modules/.bin/node'), ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/cmd/main.ts'), ...args], { cwd, env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function copyRepo(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-migrate-e2e-'));
  await cp(REPO, join(dir, 'repo'), { recursive: true });
  const files = (await readdir(join(dir, 'repo'), { recursive: true })).filter((f) => f.endsWith('.yaml'));
  for (const f of files) {
    const path = join(dir, 'repo', f);
    const text = (await readFile(path, 'utf8')).replaceAll('__NS__', ns).replaceAll('__CSS__', css).replaceAll('__VAULT__', vault.endpoint);
    await writeFile(path, text);
  }
  return dir;
}

async function seedPeers(): Promise<void> {
  await vault.admin('POST', 'secret/data/payments/db', { data: { username: 'payments', password: 'pw-e2e-vault', host: 'db.payments.svc', sslmode: '' } });
  await vault.admin('POST', 'secret/data/payments/config', { data: { LOG_LEVEL: 'info', MAX_RETRIES: '5' } });
  await vault.admin('POST', 'sys/auth/userpass', { type: 'userpass' });
  await vault.admin('PUT', 'sys/policies/acl/payments-read', { policy: 'path "secret/data/payments/*" { capabilities = ["read"] }' });
  await vault.admin('POST', 'auth/userpass/users/payments-reader', { password: 'up-e2e-password', token_policies: 'payments-read' });
  await vault.admin('POST', 'secret/data/payments/replicas/primary-credentials', { data: { user: 'primary', host: 'db-0.payments' } });
  await vault.admin('POST', 'secret/data/payments/replicas/replica-credentials', { data: { user: 'replica', port: '5432' } });
  await vault.admin('POST', 'secret/data/payments/tls', { data: { crt: Buffer.from(TLS_CRT).toString('base64') } });
  await vault.admin('POST', 'secret/data/payments/tls-extra', { data: { 'tls.key': Buffer.from(TLS_KEY).toString('base64').replaceAll('+', '-').replaceAll('/', '_'), note: 'not base64!' } });
  const sm = new SecretsManagerClient({ region: 'eu-central-1', endpoint: aws.endpoint, credentials: { accessKeyId: 'AKIAMIGRATEE2E000001', secretAccessKey: 'x' }, maxAttempts: 1 });
  const create = (Name: string, SecretString: string) => sm.send(new CreateSecretCommand({ Name, SecretString }));
  await create('payments/stripe', JSON.stringify({ api_key: 'sk-e2e-stripe' }));
  await create('payments/partners/acme', 'acme-key-e2e');
  await create('payments/partners/globex', 'globex-key-e2e');
  await create('payments/webhooks/github', 'wh-e2e-github');
  await create('payments/certs/root', 'root-ca-e2e');
  await create('billing/other', 'not-ours');
  sm.destroy();
}

beforeAll(async () => {
  cluster = loadTestCluster();
  [vault, aws] = await Promise.all([startVaultPeer(), startAwsPeer({ startTimeoutMs: 600_000 })]);
  ns = await cluster.createNamespace('payments');
  opNs = await cluster.createNamespace('ops');
  css = `${ns}-shared`;
  await prepareCluster(cluster.kubeconfigPath, opNs);
  await seedPeers();
  work = await copyRepo();
}, 600_000);

afterAll(async () => {
  await op?.stop();
  await cluster.kubectl(['delete', 'clustersecretstore', css, '--ignore-not-found']).catch(() => undefined);
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
  await vault?.stop();
  await aws?.stop();
});

describe('lockstep migrate on an ESO repository', () => {
  let out: string;

  it('converts every ESO object and keeps the other documents', async () => {
    out = join(work, 'out');
    const r = await lockstep(['migrate', '--out-dir', out, 'repo'], work);
    expect(r.stderr).toMatch(/18 ESO object\(s\) in 3 file\(s\): 18 converted, 0 partly converted, 0 left as they were/);
    expect(r.code).toBe(0);
    const rendered = await readFile(join(out, 'repo/apps/payments/rendered.yaml'), 'utf8');
    const kinds = parseAllDocuments(rendered).map((d) => (d.toJS() as { apiVersion: string; kind: string }));
    expect(kinds.map((k) => k.kind)).toEqual(['Secret', 'Secret', 'SecretStore', 'Secret', 'SecretStore', 'SecretStore', ...Array<string>(9).fill('ExternalSecret'), 'Deployment']);
    expect(kinds.filter((k) => k.apiVersion.startsWith('external-secrets.io'))).toEqual([]);
    expect(rendered).toContain('# Source: payments/templates/externalsecrets.yaml');
    expect(rendered).toContain('meta.helm.sh/release-name: payments');
  });

  it('yields manifests `lockstep check` passes', async () => {
    const r = await lockstep(['check', '--fail-on', 'warning', 'out'], work);
    expect(r.stdout).toMatch(/0 error\(s\), 0 warning\(s\)/);
    expect(r.code).toBe(0);
  });

  it('yields manifests the real apiserver accepts (kubectl apply --dry-run=server), for all four providers', async () => {
    const r = await cluster.kubectl(['apply', '--dry-run=server', '--validate=strict', '-R', '-f', join(out, 'repo')]);
    const lockstepObjects = r.split('\n').filter((l) => /\.lockstep\.dev\/.* created \(server dry run\)/.test(l));
    expect(lockstepObjects).toHaveLength(18);
    for (const store of ['secretstore.lockstep.dev/vault', 'secretstore.lockstep.dev/vault-userpass', 'secretstore.lockstep.dev/aws', 'secretstore.lockstep.dev/gcp', 'secretstore.lockstep.dev/azure', 'secretstore.lockstep.dev/azure-wi']) {
      expect(r).toContain(`${store} created (server dry run)`);
    }
  });

  it('syncs the migrated ExternalSecrets on the real control plane: Vault (OpenBao), AWS (moto) and the fake store', async () => {
    // The overlay a team adds for a non-default endpoint: the AWS store reads moto.
    const path = join(out, 'repo/apps/payments/rendered.yaml');
    const docs = parseAllDocuments(await readFile(path, 'utf8'));
    docs.find((d) => d.getIn(['kind']) === 'SecretStore' && d.getIn(['metadata', 'name']) === 'aws')?.setIn(['spec', 'provider', 'aws', 'endpoint'], aws.endpoint);
    await writeFile(path, docs.map((d) => d.toString()).join(''));
    await cluster.kubectl(['apply', '-f', join(out, 'repo/platform/shared-store.yaml'), '-f', path]);
    op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });

    const synced = async (name: string) => {
      await eventually(async () => {
        const ready = readyOf(await getJson(cluster, 'externalsecret', ns, name));
        if (ready?.status === 'False' && ready.reason !== 'StoreNotReady' && ready.reason !== 'StoreNotFound') throw new Error(`${name}: ${ready.reason}: ${ready.message}`);
        return ready?.status === 'True';
      }, 60_000, `${name} Ready`);
      return getJson(cluster, 'secret', ns, name);
    };
    const db = await synced('payments-db');
    expect(decodeData(db)).toEqual({
      username: 'payments',
      password: 'pw-e2e-vault',
      DATABASE_URL: 'postgres://payments:pw-e2e-vault@db.payments.svc:5432/payments?sslmode=require',
    });
    expect(db?.metadata.labels).toMatchObject({ app: 'payments' });
    expect(decodeData(await synced('payments-config'))).toEqual({ LOG_LEVEL: 'info', MAX_RETRIES: '5' });
    // rewrite.merge: the replicas' JSON maps merged, the primary (priority) winning the 'user' conflict.
    expect(decodeData(await synced('payments-merged'))).toEqual({ user: 'primary', host: 'db-0.payments', port: '5432' });
    // Vault userpass auth: the store logs in as payments-reader with the password from its Secret.
    expect(decodeData(await synced('payments-config-userpass'))).toEqual({ 'log-level': 'info' });
    expect(readyOf(await getJson(cluster, 'secretstore', ns, 'vault-userpass'))?.status).toBe('True');
    expect(decodeData(await synced('payments-api'))).toEqual({
      stripe: 'sk-e2e-stripe',
      payments_partners_acme: 'acme-key-e2e',
      payments_partners_globex: 'globex-key-e2e',
      'payments_U002f_certs_U002f_root': 'root-ca-e2e',
      'webhook-github': 'wh-e2e-github',
    });
    const tls = await synced('payments-tls');
    expect(tls?.type).toBe('kubernetes.io/tls');
    expect(decodeData(tls)).toEqual({ 'tls.crt': TLS_CRT, 'tls.key': TLS_KEY, 'extra-note': 'not base64!' });
    expect(decodeData(await synced('payments-smtp'))).toEqual({ host: 'smtp.example.com', user: 'mailer', password: 'smtp-e2e-pw', from: 'mailer@smtp.example.com' });
    expect(decodeData(await synced('payments-flags'))).toEqual({ 'flag-beta': 'on', 'flag-dark-mode': 'off' });
    const registry = await synced('payments-registry');
    expect(registry?.type).toBe('kubernetes.io/dockerconfigjson');
    expect(decodeData(registry)).toEqual({ '.dockerconfigjson': '{"auths":{"registry.example.com":{"auth":"bWlncmF0ZTplMmU="}}}' });
  });

  it('never prints a synced value', () => {
    expect(findLeaks(op?.output() ?? '', served)).toEqual([]);
  });
});
