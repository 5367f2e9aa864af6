/**
 * What the tenant policy must know about the Kubernetes API server the operator talks to: the
 * addresses a SecretStore may not point the operator at, and the audiences whose tokens the API
 * server accepts (so Lockstep never requests one for a store).
 *
 * Audiences come from the operator's own ServiceAccount token when it runs in a pod (its `aud`
 * is exactly the API server's audiences: the kubelet asked for a token with the default audience)
 * and from the OIDC discovery document's `issuer` (the default audience when --api-audiences is
 * not set), plus the usual defaults. Out of a cluster, discovery must succeed: until it does, no
 * ServiceAccount token is requested for any store.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { HostPort } from '../../providers/endpoint-policy.js';
import { UnavailableError } from '../../providers/provider-errors.js';
import { DEFAULT_APISERVER_AUDIENCES } from '../../providers/tenant-policy.js';
import type { Logger } from '../../observability/logger.js';

const OWN_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** Names the API server has inside every cluster (the `kubernetes` Service in `default`). */
const IN_CLUSTER_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

type Resolve = (host: string) => Promise<string[]>;
const RESOLVE_TIMEOUT_MS = 2_000;
const resolveAll: Resolve = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/** The `kubernetes` Service's EndpointSlice in `default`, as far as it is read here. */
interface ApiserverSlice {
  endpoints?: { addresses?: string[] }[];
  ports?: { port?: number }[];
}

/**
 * Every member of the control plane: the API server's own endpoint reconciler lists each running
 * API server's advertise address and port in the `kubernetes` Service's EndpointSlice (named
 * `kubernetes`, in `default`). An HA control plane behind a load balancer has members the
 * kubeconfig never names, and a pod can dial each one directly. [] when it cannot be read.
 */
export async function readApiserverMembers(
  getPath: <T>(path: string) => Promise<T>,
  log?: { info(obj: object, msg: string): void },
): Promise<HostPort[]> {
  try {
    const slice = await getPath<ApiserverSlice>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
    const ports = (slice.ports ?? []).flatMap((p) => (typeof p.port === 'number' ? [p.port] : []));
    const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
    return addresses.flatMap((host) => ports.map((port) => ({ host, port })));
  } catch (err) {
    log?.info({ err: String(err) }, 'cannot read the API server members (EndpointSlice default/kubernetes); refusing the addresses known otherwise');
    return [];
  }
}

/**
 * The API server's addresses: the kubeconfig's server (its name and what the name resolves to),
 * KUBERNETES_SERVICE_HOST/PORT in a pod, the in-cluster names of the `kubernetes` Service
 * (refused as names; they resolve to KUBERNETES_SERVICE_HOST), and the control plane's members.
 */
export async function discoverApiserverAddresses(
  server: string,
  env: Record<string, string | undefined> = process.env,
  resolve: Resolve = resolveAll,
  certificateAddresses: (server: string) => Promise<string[]> = readCertificateAddresses,
  members: () => Promise<HostPort[]> = () => Promise.resolve([]),
): Promise<HostPort[]> {
  const url = new URL(server);
  const port = Number(url.port || 443);
  // The serving certificate names the API server's own addresses (kubeadm: the advertise address,
  // the service IP), which a pod could dial directly instead of the service.
  const certified = (await certificateAddresses(server)).map((ip) => ({ host: ip, port }));
  const found: HostPort[] = [{ host: url.hostname, port }, ...certified, ...(await members())];
  if (env.KUBERNETES_SERVICE_HOST) found.push({ host: env.KUBERNETES_SERVICE_HOST, port: Number(env.KUBERNETES_SERVICE_PORT ?? 443) });
  // The in-cluster names are refused as names; what they resolve to is KUBERNETES_SERVICE_HOST.
  for (const name of IN_CLUSTER_NAMES) found.push({ host: name, port: 443 });
  if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) return found;
  // A kubeconfig naming its server: its addresses too, without holding up the start for long.
  const timeout = new Promise<string[]>((ok) => setTimeout(() => ok([]), RESOLVE_TIMEOUT_MS).unref());
  const ips = await Promise.race([resolve(url.hostname).catch(() => []), timeout]);
  return [...found, ...ips.map((ip) => ({ host: ip, port: found[0]?.port ?? 443 }))];
}

/**
 * The IP addresses in the subjectAltName of the API server's serving certificate; [] when it
 * cannot be read within 2 s. Nothing is sent: the handshake alone shows the certificate, which is
 * not verified here, since its addresses are only ever refused, never trusted.
 */
export function readCertificateAddresses(server: string, timeoutMs = RESOLVE_TIMEOUT_MS): Promise<string[]> {
  const url = new URL(server);
  if (url.protocol !== 'https:') return Promise.resolve([]);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((done) => {
    const socket = tlsConnect({ host, port: Number(url.port || 443), servername: isIP(host) ? undefined : host, rejectUnauthorized: false }, () => {
      const san = socket.getPeerCertificate().subjectaltname ?? '';
      socket.destroy();
      done([...san.matchAll(/IP Address:([^,\s]+)/g)].map((m) => m[1] as string));
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      done([]);
    });
    socket.on('error', () => done([]));
  });
}

/** The `aud` claim of a JWT (no signature check: it is our own token, read from our own pod). */
export function parseTokenAudiences(jwt: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown };
    const aud = payload.aud;
    if (typeof aud === 'string') return [aud];
    return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  } catch {
    return [];
  }
}

export interface ApiserverAudiencesDeps {
  /** GET /.well-known/openid-configuration of the API server (parsed JSON). */
  fetchDiscovery(): Promise<unknown>;
  /** The operator's own ServiceAccount token; undefined outside a pod. */
  readOwnToken?(): Promise<string | undefined>;
  log: Pick<Logger, 'info' | 'warn'>;
}

async function readOwnTokenFile(): Promise<string | undefined> {
  return readFile(OWN_TOKEN_PATH, 'utf8').catch(() => undefined);
}

/** The audiences the API server accepts, learnt once (retried until it succeeds). */
export class ApiserverAudiences {
  private known: Promise<ReadonlySet<string>> | undefined;

  constructor(private readonly deps: ApiserverAudiencesDeps) {}

  get(): Promise<ReadonlySet<string>> {
    this.known ??= this.discover().catch((err: unknown) => {
      this.known = undefined;
      throw err;
    });
    return this.known;
  }

  private async discover(): Promise<ReadonlySet<string>> {
    const audiences = new Set(DEFAULT_APISERVER_AUDIENCES);
    const own = await (this.deps.readOwnToken ?? readOwnTokenFile)();
    for (const aud of own ? parseTokenAudiences(own) : []) audiences.add(aud);
    try {
      const issuer = (await this.deps.fetchDiscovery() as { issuer?: unknown } | undefined)?.issuer;
      if (typeof issuer === 'string' && issuer !== '') audiences.add(issuer);
    } catch (err) {
      if (!own) {
        throw new UnavailableError(
          'cannot learn which token audiences the Kubernetes API server accepts (GET /.well-known/openid-configuration failed), ' +
            'so no ServiceAccount token is requested yet',
          { cause: err },
        );
      }
      this.deps.log.warn({ err: String(err) }, 'OIDC discovery failed; using the audiences of the operator\'s own token');
    }
    this.deps.log.info({ audiences: [...audiences] }, 'tokens with these audiences are never requested for a store');
    return audiences;
  }
}
