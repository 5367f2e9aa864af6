// Self-signed TLS client certificates (openssl, as the control plane's certificates are made) for
// OpenBao's cert auth method: a role trusts one certificate as it is, so another is refused.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClientCertificatePem {
  certPem: string;
  keyPem: string;
}

/** A P-256 key and a self-signed certificate for client authentication, valid one day. */
export async function makeClientCertificate(commonName: string): Promise<ClientCertificatePem> {
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-client-cert-'));
  try {
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', key, '-out', cert, '-subj', `/CN=${commonName}`,
      '-addext', 'extendedKeyUsage=clientAuth', '-addext', 'keyUsage=digitalSignature',
    ]);
    return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Enables the cert auth method and a role trusting exactly `trusted`, with the given policies. */
export async function seedCertAuth(peer: { admin(method: string, path: string, body?: unknown): Promise<unknown> }, trusted: ClientCertificatePem, policies: string[]): Promise<void> {
  await peer.admin('POST', 'sys/auth/cert', { type: 'cert' });
  await peer.admin('POST', 'auth/cert/certs/lockstep', { certificate: trusted.certPem, token_policies: policies, token_ttl: '1h' });
}
