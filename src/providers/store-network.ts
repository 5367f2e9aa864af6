/**
 * The network a store's provider client dials through. For a namespaced SecretStore every
 * connection is checked at dial time against the EndpointPolicy: the HTTP agents and the fetch
 * dispatcher look each host up themselves and refuse before connecting when any address it
 * resolves to is refused (an IP literal is judged as it is), so what is checked is what is dialed,
 * redirects and DNS answers included. Plain-http connections go to loopback only. A
 * ClusterSecretStore's network is Node's own.
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Agent as UndiciAgent, buildConnector } from 'undici';
import { Reasons } from '../api/constants.js';
import { http, https, withSecureContext } from '../runtime/node-http.js';
import { bareAddress, ENDPOINT_REFUSED_CODE, EndpointPolicy, REFUSAL_SUFFIX } from './endpoint-policy.js';
import type { StoreContext } from './provider.js';
import { findNotAllowed, NotAllowedError } from './provider-errors.js';

export type FetchFn = typeof fetch;

export interface StoreNetwork {
  /** The policy connections are checked against; undefined for a ClusterSecretStore. */
  readonly policy?: EndpointPolicy;
  /** A keep-alive agent for http: URLs (loopback only when checked). */
  httpAgent(opts?: Http.AgentOptions): Http.Agent;
  /** A keep-alive agent for https: URLs; `opts` carries TLS settings such as `ca`. */
  httpsAgent(opts?: Https.AgentOptions): Https.Agent;
  /** A fetch with its own connection pool (and TLS settings); close it with the client. */
  fetch(tls?: { ca?: string }): { fetchFn: FetchFn; close(): Promise<void> };
}

type Lookup = typeof dns.lookup;

function refusedError(target: string, address: string | undefined, why: string): NotAllowedError {
  const resolved = address && bareAddress(target.replace(/:\d+$/, '')) !== address ? ` resolves to ${address},` : ' is';
  return new NotAllowedError(Reasons.endpointNotAllowed, `connecting to '${target}' was refused: it${resolved} ${why}; ${REFUSAL_SUFFIX}`, {
    code: ENDPOINT_REFUSED_CODE,
  });
}

/**
 * A `lookup` for net.connect that resolves every address of the host and refuses the connection
 * when any is refused (a name with one bad address is not trusted for the others).
 */
export function checkedLookup(policy: EndpointPolicy, port: number, opts: { loopbackOnly?: boolean } = {}, base: Lookup = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, { ...(options as LookupOptions), all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as LookupAddress[];
      for (const a of list) {
        const why = policy.refusal(a.address, port, opts);
        if (why) return callback(refusedError(`${hostname}:${port}`, a.address, why), '', 0);
      }
      if ((options as LookupOptions).all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Why a connection to an IP literal is refused, or undefined (a name is judged by its lookup). */
function literalRefusal(policy: EndpointPolicy, host: string, port: number, loopbackOnly: boolean): NotAllowedError | undefined {
  const ip = bareAddress(host);
  if (!isIP(ip)) return undefined;
  const why = policy.refusal(ip, port, { loopbackOnly });
  return why ? refusedError(`${host}:${port}`, ip, why) : undefined;
}

type Callback = (err: Error | null, stream: Duplex) => void;
type CreateConnection = (options: Http.ClientRequestArgs, callback?: Callback) => Duplex | null | undefined;

function checkedCreate(policy: EndpointPolicy, loopbackOnly: boolean, defaultPort: number, create: CreateConnection): CreateConnection {
  return (options, callback) => {
    const host = String(options.host ?? options.hostname ?? 'localhost');
    const port = Number(options.port ?? defaultPort);
    const refused = literalRefusal(policy, host, port, loopbackOnly);
    if (refused) {
      // Nothing is dialed: the agent hands the error to the request, as for a failed connect.
      process.nextTick(() => callback?.(refused, undefined as unknown as Duplex));
      return undefined;
    }
    const lookup = checkedLookup(policy, port, { loopbackOnly }, (options.lookup as Lookup | undefined) ?? dns.lookup);
    return create({ ...options, lookup }, callback);
  };
}

class CheckedHttpAgent extends http.Agent {
  constructor(private readonly policy: EndpointPolicy, opts?: Http.AgentOptions) {
    super(opts);
  }

  override createConnection(options: Http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    return checkedCreate(this.policy, true, 80, (o, cb) => super.createConnection(o, cb))(options, callback);
  }
}

class CheckedHttpsAgent extends https.Agent {
  constructor(private readonly policy: EndpointPolicy, opts?: Https.AgentOptions) {
    super(withSecureContext(opts));
  }

  override createConnection(options: Http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    return checkedCreate(this.policy, false, 443, (o, cb) => super.createConnection(o, cb))(options, callback);
  }
}

type Undici = typeof import('undici');
let undiciModule: Promise<Undici> | undefined;
/** undici is loaded on the first fetch (GCP's token endpoints): an operator without such a store never pays for it. */
const loadUndici = (): Promise<Undici> => (undiciModule ??= import('undici'));

function checkedDispatcher(undici: Undici, policy: EndpointPolicy, tls: { ca?: string }): UndiciAgent {
  const connect: buildConnector.connector = (opts, callback) => {
    const plaintext = opts.protocol === 'http:';
    const port = Number(opts.port || (plaintext ? 80 : 443));
    const refused = literalRefusal(policy, opts.hostname, port, plaintext);
    if (refused) return callback(refused, null);
    undici.buildConnector({ ...tls, lookup: checkedLookup(policy, port, { loopbackOnly: plaintext }) } as buildConnector.BuildOptions)(opts, callback);
  };
  return new undici.Agent({ connect });
}

function pooledFetch(makeDispatcher: (undici: Undici) => UndiciAgent): { fetchFn: FetchFn; close(): Promise<void> } {
  let dispatcher: Promise<UndiciAgent> | undefined;
  const fetchFn = (async (url: string, init?: RequestInit) => {
    const undici = await loadUndici();
    dispatcher ??= Promise.resolve(makeDispatcher(undici));
    return undici.fetch(url, { ...(init as Parameters<Undici['fetch']>[1]), dispatcher: await dispatcher });
  }) as unknown as FetchFn;
  return { fetchFn, close: async () => (dispatcher ? (await dispatcher).close() : undefined) };
}

/** Every connection checked against `policy`: the network of a namespaced SecretStore. */
export function buildCheckedNetwork(policy: EndpointPolicy): StoreNetwork {
  return {
    policy,
    httpAgent: (opts) => new CheckedHttpAgent(policy, opts),
    httpsAgent: (opts) => new CheckedHttpsAgent(policy, opts),
    fetch: (tls = {}) => pooledFetch((undici) => checkedDispatcher(undici, policy, tls)),
  };
}

/** Node's own network: a ClusterSecretStore's, which a cluster admin wrote. */
export const openNetwork: StoreNetwork = {
  httpAgent: (opts) => new http.Agent(opts),
  httpsAgent: (opts) => new https.Agent(withSecureContext(opts)),
  fetch: (tls = {}) => pooledFetch((undici) => new undici.Agent({ connect: tls })),
};

/** The network for a store of this kind. */
export function buildStoreNetwork(kind: 'SecretStore' | 'ClusterSecretStore', policy: EndpointPolicy): StoreNetwork {
  return kind === 'SecretStore' ? buildCheckedNetwork(policy) : openNetwork;
}

/**
 * The network a provider client dials through: the one its context carries, else the one its
 * store kind implies (a SecretStore's is always checked, even when no API server address is known).
 */
export function networkOf(ctx: Pick<StoreContext, 'network' | 'storeKind'>): StoreNetwork {
  return ctx.network ?? buildStoreNetwork(ctx.storeKind, NO_APISERVER_KNOWN);
}

const NO_APISERVER_KNOWN = new EndpointPolicy();

/**
 * The dial-time refusal behind an error, however an SDK wrapped it: the NotAllowedError itself
 * anywhere in the cause chain, or (for SDKs that keep only the text, such as a gRPC status) a
 * message carrying the refusal.
 */
export function findEndpointRefusal(err: unknown): NotAllowedError | undefined {
  const found = findNotAllowed(err);
  if (found) return found;
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const message = (e as { message?: unknown; details?: unknown }).message ?? (e as { details?: unknown }).details;
    const code = (e as { code?: unknown }).code;
    if (typeof message !== 'string') continue;
    const at = message.indexOf('connecting to ');
    if (message.includes(REFUSAL_SUFFIX) || code === ENDPOINT_REFUSED_CODE) {
      const text = at >= 0 ? message.slice(at) : message;
      return new NotAllowedError(Reasons.endpointNotAllowed, text.slice(0, text.indexOf(REFUSAL_SUFFIX) + REFUSAL_SUFFIX.length) || text, { cause: err });
    }
  }
  return undefined;
}
