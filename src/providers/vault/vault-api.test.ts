import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UnavailableError } from '../provider-errors.js';
import { createVaultApi, type VaultApi } from './vault-api.js';
import { mapVaultError, vaultStatus } from './vault-errors.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('createVaultApi (node-vault over our transport)', () => {
  let server: Server;
  let endpoint: string;
  const seen: Seen[] = [];
  let respond: (req: IncomingMessage, res: ServerResponse) => void;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        respond(req, res);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });
  beforeEach(() => {
    seen.length = 0;
    respond = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"ok":true}}');
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  const api = (namespace?: string): VaultApi => createVaultApi({ server: endpoint, namespace });
  const signal = () => AbortSignal.timeout(5_000);

  it("sends only the store's token and namespace, whatever VAULT_* variables say", async () => {
    Object.assign(process.env, { VAULT_TOKEN: 'env-token', VAULT_NAMESPACE: 'env-ns', VAULT_PREFIX: '/env-prefix' });
    const client = api('team-a');
    await expect(client.read('secret/data/a', { token: 't1', signal: signal() })).resolves.toEqual({ data: { ok: true } });
    await client.write('auth/approle/login', { role_id: 'r' }, { signal: signal() });
    client.close();
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/secret/data/a', headers: { 'x-vault-token': 't1', 'x-vault-namespace': 'team-a' } });
    expect(seen[1]).toMatchObject({ method: 'POST', url: '/v1/auth/approle/login', body: '{"role_id":"r"}' });
    expect(seen[1]?.headers['x-vault-token']).toBeUndefined();
    const noNamespace = api();
    await noNamespace.read('x', { token: 't', signal: signal() });
    noNamespace.close();
    expect(seen[2]?.headers['x-vault-namespace']).toBeUndefined();
  });

  it('lists with GET ?list=1', async () => {
    const client = api();
    await client.list('secret/metadata/team/', { token: 't', signal: signal() });
    client.close();
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/secret/metadata/team/?list=1' });
  });

  it("rejects non-2xx answers with the status and Vault's first error", async () => {
    respond = (_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":["Vault is sealed"]}');
    const client = api();
    const err = await client.read('secret/data/a', { token: 't', signal: signal() }).catch((e: unknown) => e);
    client.close();
    expect(vaultStatus(err)).toBe(503);
    expect((err as Error).message).toBe('Vault is sealed');
  });

  it('cancels a request when its signal aborts', async () => {
    respond = () => undefined; // never answers
    const client = api();
    const started = Date.now();
    const err = await client.read('secret/data/a', { token: 't', signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    client.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(mapVaultError(err, 'reading a', 'read')).toBeInstanceOf(UnavailableError);
  });
});
