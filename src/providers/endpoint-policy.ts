/**
 * Where a namespaced SecretStore may make the operator connect. A team that may only create a
 * SecretStore must not turn the operator's network position against the cluster: no link-local
 * address (where every cloud's metadata service answers), no other metadata address, not the
 * unspecified address (which reaches this host), and not the Kubernetes API server itself. Plain
 * http (and gRPC without TLS) only to loopback. A ClusterSecretStore, written by a cluster admin,
 * is not limited.
 *
 * Two checks use these rules: `checkEndpoint` reads what a spec names (an IP literal, a known
 * metadata name, the scheme) so the store says at once what is wrong, and `refusal` judges every
 * address actually dialed, after DNS (see store-network.ts), so a name that resolves to a refused
 * address is refused too.
 */
import { BlockList, isIP } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');

const METADATA = new BlockList();
METADATA.addSubnet('fd00:ec2::', 32, 'ipv6'); // AWS instance metadata over IPv6 (fd00:ec2::254)
METADATA.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata

const UNSPECIFIED = new BlockList();
UNSPECIFIED.addSubnet('0.0.0.0', 8, 'ipv4');
UNSPECIFIED.addAddress('::', 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Names of metadata services, refused whatever they resolve to. */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

/** Refusal messages end with this, so a refusal wrapped by an SDK can still be recognised. */
export const REFUSAL_SUFFIX = 'a SecretStore may not make the operator connect there';
/** The `code` of a dial-time refusal, as Node network errors carry one. */
export const ENDPOINT_REFUSED_CODE = 'ELOCKSTEP_ENDPOINT_REFUSED';

function family(ip: string): 'ipv4' | 'ipv6' | undefined {
  const f = isIP(ip);
  return f === 4 ? 'ipv4' : f === 6 ? 'ipv6' : undefined;
}

/** An IPv6 literal without brackets and zone ("[fe80::1%eth0]" → "fe80::1"). */
export function bareAddress(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
}

export function isLoopbackAddress(ip: string): boolean {
  const f = family(bareAddress(ip));
  return f !== undefined && LOOPBACK.check(bareAddress(ip), f);
}

/** "localhost" and names under it resolve to loopback by definition (RFC 6761). */
export function isLoopbackName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name);
}

/** Why an address is never dialed for a SecretStore (apiserver aside), or undefined. */
export function classifyAddress(address: string): string | undefined {
  const ip = bareAddress(address);
  const f = family(ip);
  if (!f) return undefined;
  if (LINK_LOCAL.check(ip, f)) return 'a link-local address, where cloud metadata services answer';
  if (METADATA.check(ip, f)) return 'a cloud metadata address';
  if (UNSPECIFIED.check(ip, f)) return 'the unspecified address, which reaches the operator\'s own host';
  return undefined;
}

export class EndpointPolicy {
  private readonly apiserverHosts = new BlockList();
  private readonly apiserverLoopbackPorts = new Set<number>();
  /** Names the API server is known by, with its ports. */
  private readonly apiserverNames = new Map<string, Set<number>>();

  /** `apiserver`: the API server's addresses (IPs, and names as written in the kubeconfig) and ports. */
  constructor(apiserver: readonly HostPort[] = []) {
    for (const { host, port } of apiserver) {
      const ip = bareAddress(host);
      const f = family(ip);
      if (!f) {
        const name = host.toLowerCase().replace(/\.$/, '');
        this.apiserverNames.set(name, new Set([...(this.apiserverNames.get(name) ?? []), port]));
      }
      else if (LOOPBACK.check(ip, f)) this.apiserverLoopbackPorts.add(port);
      else this.apiserverHosts.addAddress(ip, f);
    }
  }

  /**
   * Why a SecretStore's connection to this resolved address is refused, or undefined when it may
   * go ahead. A loopback API server (a local control plane) is refused on its port only, since
   * loopback is where local peers and sidecars listen; any other API server address on every port.
   */
  refusal(address: string, port: number, opts: { loopbackOnly?: boolean } = {}): string | undefined {
    const ip = bareAddress(address);
    const f = family(ip);
    if (!f) return `${address} is not an IP address`;
    const why = classifyAddress(ip);
    if (why) return why;
    const loopback = LOOPBACK.check(ip, f);
    if (this.apiserverHosts.check(ip, f) || (loopback && this.apiserverLoopbackPorts.has(port))) {
      return 'the Kubernetes API server';
    }
    if (opts.loopbackOnly && !loopback) return 'not a loopback address, and this connection has no TLS';
    return undefined;
  }

  /**
   * What is wrong with an endpoint a SecretStore names, judged from the text alone (DNS comes at
   * dial time). `endpoint` is a URL, or "host:port" for gRPC; `plaintext` says a host:port
   * endpoint is used without TLS.
   */
  checkEndpoint(field: string, endpoint: string, opts: { plaintext?: boolean } = {}): string | undefined {
    const target = parseTarget(endpoint);
    if (!target) return `${field} '${endpoint}' is not a URL or host:port`;
    const { host, port, plaintext } = { ...target, plaintext: target.plaintext || opts.plaintext === true };
    const name = host.toLowerCase().replace(/\.$/, '');
    const refused = (why: string) => `${field} '${endpoint}' is ${why}; ${REFUSAL_SUFFIX} (a ClusterSecretStore may)`;
    if (METADATA_NAMES.has(name)) return refused('a cloud metadata service');
    const apiserverPorts = this.apiserverNames.get(name);
    if (apiserverPorts && (!isLoopbackName(name) || apiserverPorts.has(port))) {
      return refused('the Kubernetes API server');
    }
    const ip = bareAddress(host);
    if (family(ip)) {
      const why = this.refusal(ip, port);
      if (why) return refused(why);
    }
    if (plaintext && !isLoopbackName(ip)) {
      return `${field} '${endpoint}' has no TLS; a SecretStore may use plain http only to a loopback address: use https, or a ClusterSecretStore`;
    }
    return undefined;
  }
}

/** Host, port and whether the scheme is plain http; undefined when the text is neither a URL nor host:port. */
export function parseTarget(endpoint: string): { host: string; port: number; plaintext: boolean } | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return undefined;
    }
    const plaintext = url.protocol === 'http:';
    const port = url.port ? Number(url.port) : plaintext ? 80 : 443;
    return { host: bareAddress(url.hostname), port, plaintext };
  }
  const at = endpoint.lastIndexOf(':');
  if (at <= 0) return undefined;
  const port = Number(endpoint.slice(at + 1));
  if (!Number.isInteger(port)) return undefined;
  return { host: bareAddress(endpoint.slice(0, at)), port, plaintext: false };
}
