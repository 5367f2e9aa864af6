import { ApiserverAudiences, discoverApiserverAddresses, parseTokenAudiences, readCertificateAddresses } from './apiserver-facts.js';

const jwt = (payload: object) => `h.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.s`;
const log = { info: () => undefined, warn: () => undefined };

describe('apiserver facts', () => {
  it('lists the kubeconfig server, the in-cluster service and names, and what names resolve to', async () => {
    const found = await discoverApiserverAddresses('https://api.example.com:6443', { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      async (host) => (host === 'api.example.com' ? ['192.0.2.10'] : []), async () => ['192.0.2.20']);
    expect(found).toEqual(expect.arrayContaining([
      { host: 'api.example.com', port: 6443 }, { host: '192.0.2.10', port: 6443 }, { host: '10.0.0.1', port: 443 }, { host: 'kubernetes.default.svc', port: 443 },
      { host: '192.0.2.20', port: 6443 },
    ]));
  });

  it('reads no certificate addresses from a server that does not answer TLS', async () => {
    expect(await readCertificateAddresses('http://127.0.0.1:1')).toEqual([]);
    expect(await readCertificateAddresses('https://127.0.0.1:1', 500)).toEqual([]);
  });

  it('reads audiences from its own token and the OIDC issuer', async () => {
    expect(parseTokenAudiences(jwt({ aud: ['https://a', 'b'] }))).toEqual(['https://a', 'b']);
    expect(parseTokenAudiences(jwt({ aud: 'x' }))).toEqual(['x']);
    expect(parseTokenAudiences('garbage')).toEqual([]);
    const audiences = new ApiserverAudiences({
      fetchDiscovery: async () => ({ issuer: 'https://oidc.example.com/id/1' }),
      readOwnToken: async () => jwt({ aud: ['sts.amazonaws.com-is-not-this', 'https://api-audience'] }),
      log,
    });
    const set = await audiences.get();
    expect(set.has('https://oidc.example.com/id/1')).toBe(true);
    expect(set.has('https://api-audience')).toBe(true);
    expect(set.has('https://kubernetes.default.svc')).toBe(true);
  });

  it('fails (to be retried) when it cannot learn them out of a cluster, and succeeds later', async () => {
    let up = false;
    const audiences = new ApiserverAudiences({
      fetchDiscovery: async () => {
        if (!up) throw new Error('forbidden');
        return { issuer: 'https://issuer' };
      },
      readOwnToken: async () => undefined,
      log,
    });
    await expect(audiences.get()).rejects.toThrow(/no ServiceAccount token is requested yet/);
    up = true;
    expect((await audiences.get()).has('https://issuer')).toBe(true);
  });
});
