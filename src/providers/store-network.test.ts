import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { EndpointPolicy } from './endpoint-policy.js';
import { NotAllowedError } from './provider-errors.js';
import { buildCheckedNetwork, checkedLookup, findEndpointRefusal } from './store-network.js';

/** A loopback listener that counts the connections it accepts. */
async function listen(): Promise<{ server: Server; port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((s) => {
    count += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return { server, port: (server.address() as AddressInfo).port, connections: () => count, close };
}

function get(url: string, agent: http.Agent): Promise<number> {
  return new Promise((ok, fail) => {
    http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode ?? 0));
    }).on('error', fail);
  });
}

/** A resolver that answers every name from a table (no /etc/hosts, no DNS). */
const table = (entries: Record<string, string[]>) =>
  ((host: string, _opts: unknown, cb: (err: Error | null, addresses: { address: string; family: number }[]) => void) => {
    const list = entries[host];
    if (!list) return cb(Object.assign(new Error(`no such name ${host}`), { code: 'ENOTFOUND' }), []);
    cb(null, list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  }) as unknown as typeof import('node:dns').lookup;

describe('checked store network', () => {
  let peer: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    peer = await listen();
  });
  afterAll(() => peer.close());

  it('connects to an allowed loopback peer over http', async () => {
    const agent = buildCheckedNetwork(new EndpointPolicy()).httpAgent();
    await expect(get(`http://127.0.0.1:${peer.port}/`, agent)).resolves.toBe(200);
    await expect(get(`http://localhost:${peer.port}/`, agent)).resolves.toBe(200);
    agent.destroy();
  });

  it('refuses the API server port before dialing, by literal and by name', async () => {
    const before = peer.connections();
    const agent = buildCheckedNetwork(new EndpointPolicy([{ host: '127.0.0.1', port: peer.port }])).httpAgent();
    const literal = await get(`http://127.0.0.1:${peer.port}/`, agent).catch((e: unknown) => e);
    expect(literal).toBeInstanceOf(NotAllowedError);
    expect(String(literal)).toMatch(/is the Kubernetes API server; a SecretStore may not make the operator connect there/);
    const byName = await get(`http://localhost:${peer.port}/`, agent).catch((e: unknown) => e);
    expect(findEndpointRefusal(byName)?.message).toMatch(/resolves to (127\.0\.0\.1|::1), the Kubernetes API server/);
    expect(peer.connections()).toBe(before);
    agent.destroy();
  });

  it('refuses a name that resolves to a link-local address, and a name with one bad address among good ones', async () => {
    const lookup = checkedLookup(new EndpointPolicy(), 80, {}, table({ evil: ['169.254.169.254'], mixed: ['127.0.0.1', 'fe80::1'], good: ['127.0.0.1'] }));
    const resolve = (host: string) =>
      new Promise((ok, fail) => lookup(host, { all: true }, (err, addresses) => (err ? fail(err) : ok(addresses))));
    await expect(resolve('evil')).rejects.toThrow(/'evil:80' was refused: it resolves to 169\.254\.169\.254, a link-local address/);
    await expect(resolve('mixed')).rejects.toThrow(/fe80::1/);
    await expect(resolve('good')).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('sends plain http only to loopback', async () => {
    const lookup = checkedLookup(new EndpointPolicy(), 80, { loopbackOnly: true }, table({ intranet: ['10.1.2.3'] }));
    await expect(new Promise((ok, fail) => lookup('intranet', {}, (err, a) => (err ? fail(err) : ok(a))))).rejects.toThrow(/no TLS/);
  });

  it('refuses through fetch as well, without dialing', async () => {
    const before = peer.connections();
    const { fetchFn, close } = buildCheckedNetwork(new EndpointPolicy([{ host: '127.0.0.1', port: peer.port }])).fetch();
    const err = await fetchFn(`http://127.0.0.1:${peer.port}/token`).catch((e: unknown) => e);
    expect(findEndpointRefusal(err)?.reason).toBe('EndpointNotAllowed');
    const link = await fetchFn('http://169.254.169.254/latest/meta-data/').catch((e: unknown) => e);
    expect(findEndpointRefusal(link)?.message).toMatch(/link-local/);
    expect(peer.connections()).toBe(before);
    await close();
  });
});
