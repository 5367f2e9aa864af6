/**
 * How to reach the API server: its URL, TLS material and credentials, read from a kubeconfig file or
 * from the in-cluster ServiceAccount, without `@kubernetes/client-node`. Loading that package costs
 * the process ~80 MB (its KubeConfig imports the whole generated API), so the common cases are read
 * here: client certificates, a token or a token file, in-cluster. A kubeconfig that needs more
 * (an exec credential plugin, an auth-provider, a proxy, basic auth) is handed to client-node,
 * loaded only then (`needsClientNode`).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is read again after this long (client-go re-reads projected tokens every minute). */
const TOKEN_REREAD_MS = 60_000;

export interface KubeAccess {
  /** `https://host:port` (no trailing slash), possibly with a path prefix. */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify?: boolean;
  /** TLS server name to verify instead of the host (kubeconfig `tls-server-name`). */
  servername?: string;
  /** The bearer token to send now, if any (a token file is re-read as it rotates). */
  token?: () => string | undefined;
  /** Set when only client-node can handle this kubeconfig; the reason names what it needs. */
  needsClientNode?: string;
}

interface NamedCluster { name?: string; cluster?: Record<string, unknown> }
interface NamedUser { name?: string; user?: Record<string, unknown> }
interface NamedContext { name?: string; context?: { cluster?: string; user?: string } }
interface KubeconfigFile {
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: NamedContext[];
  'current-context'?: string;
}

/** The kubeconfig file at `path`, or the in-cluster configuration when none is given. */
export function loadKubeAccess(path?: string): KubeAccess {
  return path ? fromKubeconfig(path) : fromCluster();
}

function fromCluster(): KubeAccess {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error('no kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca: readFileSync(join(SERVICE_ACCOUNT_DIR, 'ca.crt')),
    token: tokenFile(join(SERVICE_ACCOUNT_DIR, 'token')),
  };
}

function fromKubeconfig(path: string): KubeAccess {
  const config = (parse(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  const contextName = config['current-context'];
  const context = config.contexts?.find((c) => c.name === contextName)?.context ?? config.contexts?.[0]?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster ?? (context ? undefined : config.clusters?.[0]?.cluster);
  if (!cluster || typeof cluster['server'] !== 'string') throw new Error(`kubeconfig ${path}: no cluster with a server for context '${contextName ?? ''}'`);
  const user = config.users?.find((u) => u.name === context?.user)?.user ?? {};
  const base = dirname(path);
  const material = (dataKey: string, fileKey: string, from: Record<string, unknown>): Buffer | undefined => {
    const data = from[dataKey];
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
    const file = from[fileKey];
    if (typeof file === 'string' && file) return readFileSync(isAbsolute(file) ? file : join(base, file));
    return undefined;
  };
  const access: KubeAccess = {
    server: cluster['server'].replace(/\/+$/, ''),
    ca: material('certificate-authority-data', 'certificate-authority', cluster),
    cert: material('client-certificate-data', 'client-certificate', user),
    key: material('client-key-data', 'client-key', user),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
  };
  if (typeof user['token'] === 'string' && user['token']) {
    const token = user['token'];
    access.token = () => token;
  } else if (typeof user['tokenFile'] === 'string' && user['tokenFile']) {
    const file = user['tokenFile'];
    access.token = tokenFile(isAbsolute(file) ? file : join(base, file));
  }
  const needs = ['exec', 'auth-provider', 'username', 'password'].filter((k) => user[k] !== undefined);
  if (cluster['proxy-url'] !== undefined) needs.push('proxy-url');
  if (needs.length > 0) access.needsClientNode = needs.join(', ');
  return access;
}

/** A token file read when first needed and again when it changed, checked at most once a minute. */
function tokenFile(file: string): () => string | undefined {
  let token: string | undefined;
  let mtimeMs = -1;
  let checkedAt = 0;
  return () => {
    const now = Date.now();
    if (token !== undefined && now - checkedAt < TOKEN_REREAD_MS) return token;
    checkedAt = now;
    try {
      const mtime = statSync(file).mtimeMs;
      if (mtime !== mtimeMs || token === undefined) {
        token = readFileSync(file, 'utf8').trim();
        mtimeMs = mtime;
      }
    } catch {
      // keep the last token; the API server says 401 if it no longer works
    }
    return token;
  };
}
