import { generateKeyPairSync } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { buildTrustedRoots, checkCaBundle } from './gcp-tls.js';

const [first = '', second = ''] = rootCertificates;

describe('caBundle', () => {
  it('accepts one or more PEM certificates, and no bundle at all', () => {
    expect(checkCaBundle(undefined)).toEqual([]);
    expect(checkCaBundle(first)).toEqual([]);
    expect(checkCaBundle(`# our proxy CAs\n${first}\n${second}\n`)).toEqual([]);
  });

  it('names what is wrong without quoting the bundle', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(checkCaBundle(`${first}\n${key}`)).toEqual(['caBundle holds a private key; it must hold CA certificates only']);
    expect(checkCaBundle('just text')).toEqual(['caBundle holds no PEM certificate']);
    expect(checkCaBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toEqual([
      'caBundle holds a PEM certificate that does not parse',
    ]);
  });

  it('adds the bundle to the public roots', () => {
    expect(buildTrustedRoots(undefined)).toBeUndefined();
    const roots = buildTrustedRoots(`comment\n${first}`) ?? '';
    expect(roots.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(rootCertificates.length + 1);
    expect(roots).not.toContain('comment');
  });
});
