/**
 * TLS trust for a store's connections: the public roots plus the certificate authorities of the
 * store's `caBundle`, for the gRPC channel and for the workload identity token endpoints alike.
 * TLS is never turned off here; only `insecure` (loopback emulators) goes without it.
 */
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import type { FetchFn } from './gcp-sts.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** The PEM certificates of a bundle; throws when one does not parse. */
function splitBundle(pem: string): string[] {
  const certs = pem.match(PEM_CERTIFICATE) ?? [];
  for (const cert of certs) new X509Certificate(cert);
  return certs;
}

/** What is wrong with a caBundle (messages never quote it). */
export function checkCaBundle(pem: string | undefined): string[] {
  if (pem === undefined) return [];
  if (/PRIVATE KEY-----/.test(pem)) return ['caBundle holds a private key; it must hold CA certificates only'];
  try {
    return splitBundle(pem).length > 0 ? [] : ['caBundle holds no PEM certificate'];
  } catch {
    return ['caBundle holds a PEM certificate that does not parse'];
  }
}

/** The roots to trust: the public roots, plus the bundle's certificates when there is one. */
export function buildTrustedRoots(caBundle: string | undefined): string | undefined {
  if (caBundle === undefined) return undefined;
  return [...rootCertificates, ...splitBundle(caBundle)].join('\n');
}

export interface TrustingFetch {
  fetchFn: FetchFn;
  close(): Promise<void>;
}

/** A fetch that trusts the public roots and the bundle, with its own connection pool. */
export function buildTrustingFetch(caBundle: string): TrustingFetch {
  const dispatcher = new Agent({ connect: { ca: buildTrustedRoots(caBundle) } });
  const fetchFn = ((url: string, init?: RequestInit) =>
    undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher })) as unknown as FetchFn;
  return { fetchFn, close: () => dispatcher.close() };
}
