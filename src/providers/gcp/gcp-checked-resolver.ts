/**
 * Dial-time checks for the Secret Manager gRPC channel of a SecretStore. gRPC dials exactly the
 * addresses its name resolver returns, so a SecretStore's channel gets a resolver of our own: it
 * looks the host up as the DNS resolver would, judges every address with the store network's
 * EndpointPolicy, and reports a refusal as a resolution failure, so nothing refused is dialed.
 * One scheme is registered per policy (grpc-js keeps resolvers in a process-wide registry).
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { grpc } from 'google-gax';
import { bareAddress, type EndpointPolicy, REFUSAL_SUFFIX } from '../endpoint-policy.js';

type GrpcUri = grpc.experimental.GrpcUri;
type Listener = grpc.experimental.ResolverListener;
type Lookup = (host: string) => Promise<LookupAddress[]>;

const schemes = new WeakMap<EndpointPolicy, string>();
/** Least time between two resolutions of one channel (grpc-js's DNS resolver waits 30 s). */
const MIN_INTERVAL_MS = 1_000;
let registered = 0;

function splitTarget(path: string): { host: string; port: number } {
  const at = path.lastIndexOf(':');
  return { host: bareAddress(path.slice(0, at)), port: Number(path.slice(at + 1)) };
}

/** Why resolving `host:port` for a store is refused, or the addresses to dial. */
export async function resolveChecked(
  policy: EndpointPolicy,
  target: string,
  opts: { loopbackOnly: boolean; lookup?: Lookup },
): Promise<{ addresses: { host: string; port: number }[] } | { refused: string }> {
  const { host, port } = splitTarget(target);
  const lookup = opts.lookup ?? ((h: string) => dns.promises.lookup(h, { all: true }));
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host);
  for (const a of addresses) {
    const why = policy.refusal(a.address, port, { loopbackOnly: opts.loopbackOnly });
    if (why) {
      const resolved = a.address === host ? ' is' : ` resolves to ${a.address},`;
      return { refused: `connecting to '${target}' was refused: it${resolved} ${why}; ${REFUSAL_SUFFIX}` };
    }
  }
  return { addresses: addresses.map((a) => ({ host: a.address, port })) };
}

type ResolverClass = Parameters<typeof grpc.experimental.registerResolver>[1];

function buildResolverClass(policy: EndpointPolicy, loopbackOnly: boolean): ResolverClass {
  const { statusOrFromError, statusOrFromValue } = grpc.experimental;
  return class CheckedResolver {
    private generation = 0;
    private timer: NodeJS.Timeout | undefined;
    private lastStarted = Number.NEGATIVE_INFINITY;

    constructor(
      private readonly target: GrpcUri,
      private readonly listener: Listener,
    ) {}

    static getDefaultAuthority(target: GrpcUri): string {
      return target.path;
    }

    /**
     * One resolution at a time, at most one a second, reported from a timer: the load balancer
     * asks again whenever a connection drops, and an answer that came back at once (an IP
     * literal) would otherwise loop through microtasks and starve the event loop.
     */
    updateResolution(): void {
      if (this.timer) return;
      const wait = Math.max(0, this.lastStarted + MIN_INTERVAL_MS - Date.now());
      const generation = this.generation;
      this.timer = setTimeout(() => {
        this.lastStarted = Date.now();
        const report = (result: Awaited<ReturnType<typeof resolveChecked>> | Error) => {
          this.timer = undefined;
          if (generation !== this.generation) return; // destroyed meanwhile
          if (result instanceof Error || 'refused' in result) {
            const details = result instanceof Error ? `resolving '${this.target.path}' failed: ${result.message}` : result.refused;
            this.listener(statusOrFromError({ code: grpc.status.UNAVAILABLE, details }), {}, null, '');
          } else {
            this.listener(statusOrFromValue(result.addresses.map((a) => ({ addresses: [a] }))), {}, null, '');
          }
        };
        resolveChecked(policy, this.target.path, { loopbackOnly }).then(report, report);
      }, wait);
      this.timer.unref();
    }

    destroy(): void {
      this.generation++;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  };
}

/**
 * The gRPC target of `host:port` whose every resolution is checked against `policy`.
 * `plaintext`: the channel has no TLS, so only loopback addresses are allowed.
 */
export function checkedGrpcTarget(policy: EndpointPolicy, host: string, plaintext: boolean): string {
  const key = policy;
  let scheme = schemes.get(key);
  if (!scheme) {
    scheme = `lockstep-checked-${++registered}`;
    grpc.experimental.registerResolver(scheme, buildResolverClass(policy, false));
    grpc.experimental.registerResolver(`${scheme}-plaintext`, buildResolverClass(policy, true));
    schemes.set(key, scheme);
  }
  return `${plaintext ? `${scheme}-plaintext` : scheme}:${host}`;
}
