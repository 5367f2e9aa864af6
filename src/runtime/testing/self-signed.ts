/** Test support: a self-signed P-256 certificate and its key, made by openssl. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function makeSelfSignedCertificate(cn: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-cert-test-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-subj', `/CN=${cn}`], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'c'), 'utf8'), key: readFileSync(join(dir, 'k'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
