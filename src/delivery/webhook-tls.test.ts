import { X509Certificate } from 'node:crypto';
import { issueServingCertificate, isUsable } from './webhook-tls.js';

describe('issueServingCertificate', () => {
  it('issues a CA and a serving certificate for DNS names and IPs, signed by that CA', async () => {
    const hosts = ['lockstep-webhook.lockstep-system.svc', '10.244.0.1'];
    const cert = await issueServingCertificate(hosts);
    const leaf = new X509Certificate(cert.certPem);
    const ca = new X509Certificate(cert.caPem);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkHost('lockstep-webhook.lockstep-system.svc')).toBeDefined();
    expect(leaf.checkIP('10.244.0.1')).toBeDefined();
    expect(cert.keyPem).toContain('BEGIN PRIVATE KEY');
    expect(isUsable(cert, hosts)).toBe(true);
  });

  it('is not usable for another name, or when it expires within 30 days', async () => {
    const cert = await issueServingCertificate(['a.svc']);
    expect(isUsable(cert, ['b.svc'])).toBe(false);
    expect(isUsable(cert, ['a.svc'], new Date(Date.now() + 340 * 86_400_000))).toBe(false);
    expect(isUsable({ ...cert, caPem: (await issueServingCertificate(['a.svc'])).caPem }, ['a.svc'])).toBe(false);
  });
});
