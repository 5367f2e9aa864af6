import { classifyAddress, EndpointPolicy, isLoopbackName, parseTarget } from './endpoint-policy.js';

describe('endpoint policy', () => {
  const policy = new EndpointPolicy([
    { host: '127.0.0.1', port: 6443 },
    { host: '10.0.0.1', port: 443 },
    { host: 'kubernetes.default.svc', port: 443 },
  ]);

  it('classifies link-local, metadata and unspecified addresses, in every notation', () => {
    for (const ip of ['169.254.169.254', '169.254.170.2', 'fe80::1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '[fe80::1%eth0]']) {
      expect(classifyAddress(ip)).toMatch(/link-local/);
    }
    expect(classifyAddress('fd00:ec2::254')).toMatch(/metadata/);
    expect(classifyAddress('100.100.100.200')).toMatch(/metadata/);
    expect(classifyAddress('0.0.0.0')).toMatch(/unspecified/);
    expect(classifyAddress('::')).toMatch(/unspecified/);
    for (const ip of ['127.0.0.1', '10.1.2.3', '8.8.8.8', '::1', '2001:db8::1']) expect(classifyAddress(ip)).toBeUndefined();
  });

  it('refuses the API server: every port of a routable address, only its port on loopback', () => {
    expect(policy.refusal('10.0.0.1', 443)).toMatch(/API server/);
    expect(policy.refusal('10.0.0.1', 8080)).toMatch(/API server/);
    expect(policy.refusal('127.0.0.1', 6443)).toMatch(/API server/);
    expect(policy.refusal('127.0.0.2', 6443)).toMatch(/API server/);
    expect(policy.refusal('::1', 6443)).toMatch(/API server/);
    expect(policy.refusal('127.0.0.1', 8200)).toBeUndefined();
    expect(policy.refusal('10.0.0.2', 443)).toBeUndefined();
  });

  it('allows only loopback for plaintext connections', () => {
    expect(policy.refusal('10.1.2.3', 80, { loopbackOnly: true })).toMatch(/no TLS/);
    expect(policy.refusal('127.0.0.1', 80, { loopbackOnly: true })).toBeUndefined();
  });

  it('checks endpoints as written: metadata names, literals, the API server, http off loopback', () => {
    const check = (endpoint: string, plaintext = false) => policy.checkEndpoint('spec.x', endpoint, { plaintext });
    expect(check('http://169.254.169.254/latest/meta-data')).toMatch(/link-local.*a SecretStore may not/);
    expect(check('http://0xa9fea9fe/')).toMatch(/link-local/); // the URL parser normalises it
    expect(check('https://[fd00:ec2::254]/')).toMatch(/metadata/);
    expect(check('http://metadata.google.internal/computeMetadata/v1/')).toMatch(/metadata service/);
    expect(check('https://Metadata.Google.Internal./')).toMatch(/metadata service/);
    expect(check('https://kubernetes.default.svc/api')).toMatch(/API server/);
    expect(check('https://127.0.0.1:6443/')).toMatch(/API server/);
    expect(check('https://localhost:6443/')).toBeUndefined(); // a name: judged when dialed
    expect(check('http://vault.example.com:8200')).toMatch(/plain http only to a loopback/);
    expect(check('http://127.0.0.1:8200')).toBeUndefined();
    expect(check('http://localhost:8200')).toBeUndefined();
    expect(check('http://[::1]:8200')).toBeUndefined();
    expect(check('https://vault.example.com')).toBeUndefined();
    expect(check('secretmanager.example.com:443')).toBeUndefined();
    expect(check('secretmanager.example.com:80', true)).toMatch(/no TLS/);
    expect(check('127.0.0.1:9090', true)).toBeUndefined();
    expect(check('169.254.169.254:80')).toMatch(/link-local/);
  });

  it('parses URLs and host:port targets', () => {
    expect(parseTarget('https://v.example.com')).toEqual({ host: 'v.example.com', port: 443, plaintext: false });
    expect(parseTarget('http://[::1]:81/x')).toEqual({ host: '::1', port: 81, plaintext: true });
    expect(parseTarget('h:9')).toEqual({ host: 'h', port: 9, plaintext: false });
    expect(parseTarget('nonsense')).toBeUndefined();
    expect(isLoopbackName('LOCALHOST.')).toBe(true);
    expect(isLoopbackName('a.localhost')).toBe(true);
    expect(isLoopbackName('localhost.example.com')).toBe(false);
  });
});
