/**
 * The only user of node-vault: a small port (read, write, list with a token and an AbortSignal)
 * that the session and the KV client are written against, so unit tests can fake Vault.
 */
import nodeVault from 'node-vault';
import type { RequestBudget } from '../provider.js';
import type { StoreNetwork } from '../store-network.js';
import { type ClientCertificate, createVaultTransport, type TransportRequest, type TransportResponse } from './vault-transport.js';
import type { ClientTlsSource } from './vault-client-tls.js';

export interface ApiCallOptions {
  /** The Vault token to send; none for login endpoints. */
  token?: string;
  signal: AbortSignal;
  /** A TLS client certificate presented on this request only (cert auth's login). */
  clientCert?: ClientCertificate;
}

/** Vault's HTTP API; every method resolves with the response body and rejects with node-vault's errors. */
export interface VaultApi {
  read(path: string, opts: ApiCallOptions): Promise<unknown>;
  write(path: string, body: object, opts: ApiCallOptions): Promise<unknown>;
  list(path: string, opts: ApiCallOptions): Promise<unknown>;
  close(): void;
}

export interface VaultApiOptions {
  server: string;
  namespace?: string;
  caPem?: string;
  /** One token per HTTP request (logins and renewals included). */
  budget?: RequestBudget;
  /** What the transport dials through (checked for a SecretStore). */
  network?: StoreNetwork;
  /** The store's `tls`: the client certificate presented on every request (cert auth's login presents its own). */
  clientTls?: ClientTlsSource;
}

/** Fields node-vault fills from VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX when not given. */
interface EnvSensitiveClient {
  token: string;
  namespace?: string;
  pathPrefix?: string;
}

export function createVaultApi(opts: VaultApiOptions): VaultApi {
  const transport = createVaultTransport({ caPem: opts.caPem, network: opts.network });
  const { budget } = opts;
  const { clientTls } = opts;
  const send = async (req: TransportRequest): Promise<TransportResponse> => {
    const storeCert = clientTls ? await clientTls.current() : undefined;
    await budget?.take(req.signal);
    if (!clientTls) return transport.send(req);
    // No answer at all: perhaps the handshake refused the certificate (expired, renewed since).
    return transport.send({ ...req, storeCert }).catch((err: unknown) => {
      clientTls.failed();
      throw err;
    });
  };
  const client = nodeVault({
    apiVersion: 'v1',
    endpoint: opts.server,
    noCustomHTTPVerbs: true, // LIST as GET ?list=1: works through every proxy
    'request-promise': { defaults: () => send },
  });
  // A store's requests carry only what its spec says, whatever the operator's environment holds.
  const pinned = client as unknown as EnvSensitiveClient;
  pinned.token = '';
  pinned.namespace = opts.namespace ?? '';
  pinned.pathPrefix = '';

  const requestOptions = (o: ApiCallOptions) => ({
    signal: o.signal,
    headers: o.token ? { 'X-Vault-Token': o.token } : {},
    ...(o.clientCert ? { clientCert: o.clientCert } : {}),
  });
  return {
    read: (path, o) => client.read(path, requestOptions(o)) as Promise<unknown>,
    write: (path, body, o) => client.write(path, body, requestOptions(o)) as Promise<unknown>,
    list: (path, o) => client.list(path, requestOptions(o)) as Promise<unknown>,
    close: () => transport.close(),
  };
}
