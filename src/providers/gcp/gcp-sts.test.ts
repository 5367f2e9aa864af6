import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exchangeStsToken, impersonateServiceAccount, type WorkloadIdentityConfig } from './gcp-sts.js';
import { AuthError, InvalidConfigError, ThrottledError, UnavailableError } from '../provider-errors.js';

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Reply = { status: number; json: unknown };

/** A local HTTP server playing STS / IAM Credentials: records requests, answers from a queue. */
async function startTokenServer(): Promise<{ base: string; seen: Seen[]; replies: Reply[]; server: Server }> {
  const seen: Seen[] = [];
  const replies: Reply[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      const reply = replies.shift() ?? { status: 500, json: {} };
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, replies, server };
}

describe('workload identity token exchange', () => {
  let srv: Awaited<ReturnType<typeof startTokenServer>>;
  let config: WorkloadIdentityConfig;
  const signal = () => AbortSignal.timeout(5000);

  beforeAll(async () => {
    srv = await startTokenServer();
    config = {
      serviceAccountRef: { name: 'app' },
      audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k8s',
      stsEndpoint: `${srv.base}/v1/token`,
      iamCredentialsEndpoint: `${srv.base}/`,
    };
  });
  afterAll(() => new Promise<void>((resolve) => srv.server.close(() => resolve())));
  beforeEach(() => {
    srv.seen.length = 0;
    srv.replies.length = 0;
  });

  it('exchanges a ServiceAccount token at STS (RFC 8693)', async () => {
    srv.replies.push({ status: 200, json: { access_token: 'federated-token', token_type: 'Bearer', expires_in: 600 } });
    const token = await exchangeStsToken(config, 'k8s-jwt', { signal: signal(), now: () => 1000 });
    expect(token).toEqual({ token: 'federated-token', expiresAt: 601_000 });
    const sent = srv.seen[0] as Seen;
    expect(sent.url).toBe('/v1/token');
    expect(Object.fromEntries(new URLSearchParams(sent.body))).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      audience: config.audience,
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      subject_token: 'k8s-jwt',
    });
  });

  it('impersonates a Google service account with the federated token', async () => {
    srv.replies.push({ status: 200, json: { accessToken: 'sa-token', expireTime: '2030-01-01T00:00:00Z' } });
    const email = 'reader@proj.iam.gserviceaccount.com';
    const token = await impersonateServiceAccount({ ...config, serviceAccountEmail: email }, { token: 'federated-token', expiresAt: 0 }, { signal: signal() });
    expect(token).toEqual({ token: 'sa-token', expiresAt: Date.parse('2030-01-01T00:00:00Z') });
    const sent = srv.seen[0] as Seen;
    expect(sent.url).toBe(`/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}:generateAccessToken`);
    expect(sent.headers.authorization).toBe('Bearer federated-token');
    expect(JSON.parse(sent.body)).toEqual({ scope: ['https://www.googleapis.com/auth/cloud-platform'], lifetime: '3600s' });
  });

  it.each([
    [400, { error: 'invalid_grant', error_description: 'token k8s-jwt rejected' }, AuthError, '(invalid_grant)'],
    [403, { error: { code: 403, status: 'PERMISSION_DENIED', message: 'no' } }, AuthError, '(PERMISSION_DENIED)'],
    [404, {}, InvalidConfigError, 'check the endpoint'],
    [429, {}, ThrottledError, 'HTTP 429'],
    [503, {}, UnavailableError, 'HTTP 503'],
  ])('classifies HTTP %s without echoing the body', async (status, json, type, text) => {
    srv.replies.push({ status, json });
    const err = (await exchangeStsToken(config, 'k8s-jwt', { signal: signal() }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(type);
    expect(err.message).toContain(text);
    expect(err.message).not.toContain('k8s-jwt');
  });

  it('reports an unreachable STS as unavailable and honours the signal', async () => {
    const closed = { ...config, stsEndpoint: 'http://127.0.0.1:1/v1/token' };
    await expect(exchangeStsToken(closed, 't', { signal: signal() })).rejects.toBeInstanceOf(UnavailableError);
    await expect(exchangeStsToken(config, 't', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(UnavailableError);
  });
});
