import { rootCertificates } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { issueServingCertificate } from '../delivery/webhook-tls.js';
import { https, withSecureContext } from './node-http.js';

/** GET https://127.0.0.1:port/ through `agent`: the status code, or the TLS error's code. */
function get(port: number, agent: import('node:https').Agent): Promise<string> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      resolve(String(res.statusCode));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('withSecureContext', () => {
  it('leaves options without TLS material as they are', () => {
    const opts = { keepAlive: true, servername: 'vault' };
    expect(withSecureContext(opts)).toBe(opts);
    expect(withSecureContext()).toEqual({});
  });

  it('makes the TLS material one context: the agent pool name stays short, other options stay', () => {
    const ca = [...rootCertificates]; // a CA list with the system roots: ~200 KB of text
    const plain = new https.Agent({ keepAlive: true, ca });
    const agent = new https.Agent(withSecureContext({ keepAlive: true, ca, rejectUnauthorized: false }));
    const name = (a: import('node:https').Agent) => a.getName({ ...a.options, host: 'h', port: 1 });
    expect(name(plain).length).toBeGreaterThan(100_000);
    expect(name(agent).length).toBeLessThan(100);
    expect(agent.options.rejectUnauthorized).toBe(false);
    expect(agent.options).not.toHaveProperty('ca');
    plain.destroy();
    agent.destroy();
  });

  it('trusts the given CA and only it, as the ca option does', async () => {
    const tls = await issueServingCertificate(['127.0.0.1']);
    const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const trusting = new https.Agent(withSecureContext({ ca: tls.caPem }));
      const systemOnly = new https.Agent(withSecureContext({ cert: undefined, key: undefined, pfx: undefined, ca: [...rootCertificates] }));
      expect(await get(port, trusting)).toBe('200');
      expect(await get(port, systemOnly)).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
      trusting.destroy();
      systemOnly.destroy();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
