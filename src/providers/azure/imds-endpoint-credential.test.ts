import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretScrubber, REDACTED } from '../../observability/secret-scrubber.js';
import { AuthError, UnavailableError } from '../provider-errors.js';
import { toProviderError } from './azure-errors.js';
import { ImdsEndpointCredential, parseImdsToken, scopeToResource } from './imds-endpoint-credential.js';

describe('IMDS token parsing', () => {
  it('turns a scope into a resource', () => {
    expect(scopeToResource(['https://vault.azure.net/.default'])).toBe('https://vault.azure.net');
    expect(scopeToResource('https://vault.azure.net')).toBe('https://vault.azure.net');
  });

  it('reads expires_on, else expires_in', () => {
    expect(parseImdsToken('{"access_token":"t","expires_on":"1700000000"}')).toEqual({ token: 't', expiresOnTimestamp: 1_700_000_000_000, tokenType: 'Bearer' });
    expect(parseImdsToken('{"access_token":"t","expires_in":"60"}', 1000).expiresOnTimestamp).toBe(61_000);
    expect(() => parseImdsToken('<html>')).toThrow(UnavailableError);
    expect(() => parseImdsToken('{}')).toThrow(UnavailableError);
  });
});

describe('ImdsEndpointCredential against a loopback endpoint', () => {
  let server: Server;
  let endpoint: string;
  const seen: { url: string; metadata?: string | string[] }[] = [];
  let status = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', metadata: req.headers.metadata });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { access_token: 'imds-access-token', expires_on: String(Math.floor(Date.now() / 1000) + 3600) } : { error: 'invalid_request' }));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata/identity/oauth2/token`;
  });

  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
  });

  it('asks for the resource and client ID with the Metadata header, and scrubs the token', async () => {
    status = 200;
    const scrubber = new SecretScrubber();
    const credential = new ImdsEndpointCredential({ endpoint, clientId: '00000000-0000-4000-8000-000000000001', scrubber });
    const token = await credential.getToken('https://vault.azure.net/.default', { abortSignal: AbortSignal.timeout(5000) });
    expect(token?.token).toBe('imds-access-token');
    const url = new URL(seen.at(-1)?.url ?? '', 'http://x');
    expect(Object.fromEntries(url.searchParams)).toEqual({ 'api-version': '2018-02-01', resource: 'https://vault.azure.net', client_id: '00000000-0000-4000-8000-000000000001' });
    expect(seen.at(-1)?.metadata).toBe('true');
    expect(scrubber.scrub('imds-access-token')).toBe(REDACTED);
  });

  it('reports a refused identity as an auth error and a closed port as unavailable', async () => {
    status = 400;
    const scrubber = new SecretScrubber();
    await expect(new ImdsEndpointCredential({ endpoint, scrubber }).getToken('https://vault.azure.net/.default')).rejects.toBeInstanceOf(AuthError);
    const closed = new ImdsEndpointCredential({ endpoint: 'http://127.0.0.1:1/token', scrubber });
    const err = await closed.getToken('https://vault.azure.net/.default').catch((e: unknown) => e);
    expect(toProviderError(err, 'x')).toBeInstanceOf(UnavailableError);
  });
});
