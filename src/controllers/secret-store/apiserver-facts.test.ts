import { ApiserverAudiences, discoverApiserverAddresses, parseTokenAudiences, readApiserverMembers, readCertificateAddresses } from './apiserver-facts.js';
import { EndpointPolicy } from '../../providers/endpoint-policy.js';

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

  it("adds every control-plane member the kubernetes Service's EndpointSlice lists", async () => {
    const slice = { endpoints: [{ addresses: ['192.0.2.31'] }, { addresses: ['192.0.2.32'] }], ports: [{ name: 'https', port: 6443 }] };
    let asked = '';
    const members = () => readApiserverMembers(async <T>(path: string) => {
      asked = path;
      return slice as T;
    });
    const found = await discoverApiserverAddresses('https://lb.example.com:443', {}, async () => ['192.0.2.10'], async () => [], members);
    expect(asked).toBe('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
    expect(found).toEqual(expect.arrayContaining([{ host: '192.0.2.31', port: 6443 }, { host: '192.0.2.32', port: 6443 }]));
    // A member is refused on every port, like any non-loopback API server address.
    expect(new EndpointPolicy(found).refusal('192.0.2.32', 8200)).toBe('the Kubernetes API server');
  });

  it('goes on without members when the EndpointSlice cannot be read', async () => {
    const messages: string[] = [];
    const members = await readApiserverMembers(async () => Promise.reject(new Error('403 forbidden')), { info: (_o: object, m: string) => void messages.push(m) });
    expect(members).toEqual([]);
    expect(messages[0]).toContain('EndpointSlice default/kubernetes');
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
