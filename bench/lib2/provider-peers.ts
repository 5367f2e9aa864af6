// The provider peers of the provider benchmark, seeded with `keys` remote keys and a least-privilege
// principal: moto with IAM enforced (static access keys of a read-only user), or an OpenBao dev
// server with an AppRole (so logins can be counted). Each describes its store spec and how to
// classify the HTTP calls the counting proxy sees.
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { IncomingMessage } from 'node:http';
import { startAwsPeer } from '../../e2e/peers/aws/aws-peer.js';
import { enforceIam, REGION } from '../../e2e/peers/aws/moto-iam.js';
import { startVaultPeer, type VaultPeer } from '../../e2e/peers/vault/vault-peer.js';
import { runPool } from '../lib/kube-http.js';
import { awsAction, vaultPath } from './counting-proxy.js';

export interface ProviderPeer {
  kind: 'aws' | 'vault';
  endpoint: string;
  logFile: string;
  pid(): number | undefined;
  /** stringData of the credentials Secret. */
  credentials: Record<string, string>;
  /** spec.provider of a ClusterSecretStore that reaches the peer at `endpoint` (the proxy). */
  storeProvider(endpoint: string, namespace: string, secretName: string): Record<string, unknown>;
  classify(req: IncomingMessage, body: Buffer): string;
  /** Records the remote keys of every read call (see `reads`). */
  observe(kind: string, req: IncomingMessage, body: Buffer): void;
  /** One entry per HTTP read call: when, and which remote keys it read. */
  reads: ReadCall[];
  isRead(kind: string): boolean;
  isLogin(kind: string): boolean;
  stop(): Promise<void>;
}

export interface ReadCall {
  at: number;
  keys: string[];
}

export const valueOf = (k: number) => `bench-value-${k}-${'v'.repeat(24)}`;

async function awsPeer(keys: number, keyName: (k: number) => string): Promise<ProviderPeer> {
  const peer = await startAwsPeer({ startTimeoutMs: 600_000 });
  const reads: ReadCall[] = [];
  try {
    const principals = await enforceIam(peer);
    const admin = new SecretsManagerClient({ region: REGION, endpoint: peer.endpoint, credentials: principals.admin, maxAttempts: 3 });
    await runPool(Array.from({ length: keys }, (_, k) => k), 8, async (k) => {
      await admin.send(new CreateSecretCommand({ Name: keyName(k), SecretString: valueOf(k) }));
    });
    admin.destroy();
    return {
      kind: 'aws', endpoint: peer.endpoint, logFile: peer.logFile, pid: peer.pid,
      credentials: { id: principals.reader.accessKeyId, secret: principals.reader.secretAccessKey },
      storeProvider: (endpoint, namespace, name) => ({
        aws: {
          region: REGION, endpoint,
          auth: { secretRef: {
            accessKeyIDSecretRef: { name, key: 'id', namespace },
            secretAccessKeySecretRef: { name, key: 'secret', namespace },
          } },
        },
      }),
      classify: awsAction,
      reads,
      observe: (kind, _req, body) => {
        if (kind !== 'GetSecretValue' && kind !== 'BatchGetSecretValue') return;
        const b = JSON.parse(body.toString('utf8')) as { SecretId?: string; SecretIdList?: string[] };
        reads.push({ at: Date.now(), keys: b.SecretIdList ?? (b.SecretId ? [b.SecretId] : []) });
      },
      isRead: (k) => k === 'GetSecretValue' || k === 'BatchGetSecretValue',
      // Static keys: the SDK signs every call itself; an STS AssumeRole* would be a login.
      isLogin: (k) => k.startsWith('sts/iam AssumeRole'),
      stop: () => peer.stop(),
    };
  } catch (err) {
    await peer.stop();
    throw err;
  }
}

const ROLE_ID = 'bench-role-id';
const SECRET_ID = 'bench-approle-secret-id-0123456789';
const POLICY = 'path "secret/data/*" { capabilities = ["read"] }\npath "secret/metadata/*" { capabilities = ["read", "list"] }\n';

async function seedVault(peer: VaultPeer): Promise<void> {
  await peer.admin('PUT', 'sys/policies/acl/bench-read', { policy: POLICY });
  await peer.admin('POST', 'sys/auth/approle', { type: 'approle' });
  await peer.admin('POST', 'auth/approle/role/bench', { token_policies: ['bench-read'], token_ttl: '1h', token_max_ttl: '4h' });
  await peer.admin('POST', 'auth/approle/role/bench/role-id', { role_id: ROLE_ID });
  await peer.admin('POST', 'auth/approle/role/bench/custom-secret-id', { secret_id: SECRET_ID });
}

async function vaultPeer(keys: number, keyName: (k: number) => string): Promise<ProviderPeer> {
  const peer = await startVaultPeer({ seed: seedVault, startTimeoutMs: 600_000 });
  const reads: ReadCall[] = [];
  try {
    await runPool(Array.from({ length: keys }, (_, k) => k), 8, async (k) => {
      await peer.admin('POST', `secret/data/${keyName(k)}`, { data: { value: valueOf(k) } });
    });
    return {
      kind: 'vault', endpoint: peer.endpoint, logFile: peer.logFile, pid: peer.pid,
      credentials: { 'secret-id': SECRET_ID },
      storeProvider: (endpoint, namespace, name) => ({
        vault: { server: endpoint, path: 'secret', version: 'v2', auth: { appRole: { roleId: ROLE_ID, secretRef: { name, key: 'secret-id', namespace } } } },
      }),
      classify: vaultPath,
      reads,
      observe: (kind, req) => {
        if (!kind.startsWith('GET secret/data/')) return;
        reads.push({ at: Date.now(), keys: [(req.url ?? '').split('?')[0]?.replace(/^\/v1\/secret\/data\//, '') ?? ''] });
      },
      isRead: (k) => k.startsWith('GET secret/data/'),
      isLogin: (k) => /^\w+ auth\/.+\/login$/.test(k),
      stop: () => peer.stop(),
    };
  } catch (err) {
    await peer.stop();
    throw err;
  }
}

export function startProviderPeer(kind: 'aws' | 'vault', keys: number, keyName: (k: number) => string, log: (m: string) => void): Promise<ProviderPeer> {
  log(`starting the ${kind} peer and writing ${keys} remote keys`);
  return kind === 'aws' ? awsPeer(keys, keyName) : vaultPeer(keys, keyName);
}
