/**
 * A managed identity credential for an explicitly configured IMDS-compatible endpoint
 * (`GET endpoint?api-version=2018-02-01&resource=R[&client_id=C]` with `Metadata: true`).
 * The SDK's ManagedIdentityCredential finds its endpoint only from process-wide environment
 * variables; a store-level endpoint needs its own small client. It never probes anything else.
 */
import { type Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { ScrubberView } from '../../observability/secret-scrubber.js';
import { AuthError, ThrottledError, UnavailableError } from '../provider-errors.js';
import type { StoreNetwork } from '../store-network.js';

const API_VERSION = '2018-02-01';
const TIMEOUT_MS = 10_000;
const MAX_BODY = 64 * 1024;

export interface ImdsEndpointOptions {
  endpoint: string;
  clientId?: string;
  tlsOptions?: { ca: string[] };
  scrubber: ScrubberView;
  /** What the requests dial through; Node's own when absent. */
  network?: StoreNetwork;
}

interface ImdsTokenResponse {
  access_token?: string;
  expires_on?: string | number;
  expires_in?: string | number;
}

/** "https://vault.azure.net/.default" → "https://vault.azure.net". */
export function scopeToResource(scopes: string | string[]): string {
  const scope = Array.isArray(scopes) ? scopes[0] : scopes;
  if (!scope) throw new AuthError('azure managed identity: no scope to request a token for');
  return scope.replace(/\/\.default$/, '');
}

/** Parses an IMDS token answer; expiry from expires_on (epoch seconds), else expires_in. */
export function parseImdsToken(body: string, now = Date.now()): AccessToken {
  let parsed: ImdsTokenResponse;
  try {
    parsed = JSON.parse(body) as ImdsTokenResponse;
  } catch {
    throw new UnavailableError('azure managed identity: the token endpoint answered with something that is not JSON');
  }
  if (!parsed.access_token) throw new UnavailableError('azure managed identity: the token endpoint answered without access_token');
  const expiresOn = Number(parsed.expires_on);
  const expiresIn = Number(parsed.expires_in);
  const expiresOnTimestamp = Number.isFinite(expiresOn) && expiresOn > 0 ? expiresOn * 1000 : now + (Number.isFinite(expiresIn) ? expiresIn : 300) * 1000;
  return { token: parsed.access_token, expiresOnTimestamp, tokenType: 'Bearer' };
}

/** A real AbortSignal following the SDK's AbortSignalLike. */
function toAbortSignal(signal: GetTokenOptions['abortSignal']): AbortSignal | undefined {
  if (!signal || signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller.signal;
}

function statusError(status: number, endpoint: string): Error {
  const what = `azure managed identity: token endpoint ${endpoint} answered ${status}`;
  if (status === 429) return new ThrottledError(what);
  if (status >= 500) return new UnavailableError(what);
  return new AuthError(`${what}; check auth.managedIdentity.clientId and that the identity is assigned`);
}

export class ImdsEndpointCredential implements TokenCredential {
  private readonly agent: Agent | undefined;

  constructor(private readonly opts: ImdsEndpointOptions) {
    const https = new URL(opts.endpoint).protocol === 'https:';
    this.agent = opts.network && (https ? opts.network.httpsAgent({ ...opts.tlsOptions }) : opts.network.httpAgent());
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    const url = new URL(this.opts.endpoint);
    url.searchParams.set('api-version', API_VERSION);
    url.searchParams.set('resource', scopeToResource(scopes));
    if (this.opts.clientId) url.searchParams.set('client_id', this.opts.clientId);
    const { status, body } = await this.get(url, toAbortSignal(options?.abortSignal));
    if (status !== 200) throw statusError(status, this.opts.endpoint);
    const token = parseImdsToken(body);
    this.opts.scrubber.add(token.token);
    return token;
  }

  private get(url: URL, signal: AbortSignal | undefined): Promise<{ status: number; body: string }> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const tls = url.protocol === 'https:' ? this.opts.tlsOptions : undefined;
    return new Promise((ok, fail) => {
      const options = { method: 'GET', headers: { Metadata: 'true', Accept: 'application/json' }, signal, timeout: TIMEOUT_MS, ...tls, agent: this.agent };
      const req = request(url, options, (res) => {
        readLimited(res).then((body) => ok({ status: res.statusCode ?? 0, body }), fail);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`token endpoint ${this.opts.endpoint} timed out`), { code: 'ETIMEDOUT' })));
      req.on('error', fail); // node network and TLS errors, classified by toProviderError
      req.end();
    });
  }
}

function readLimited(res: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) res.destroy(new UnavailableError('azure managed identity: token answer too large'));
      else chunks.push(chunk);
    });
    res.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    res.on('error', fail);
  });
}
