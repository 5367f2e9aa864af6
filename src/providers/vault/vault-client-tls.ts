/**
 * A store's `tls`: the client certificate presented on every request to Vault (mutual TLS), as
 * External Secrets Operator's `provider.vault.tls` spells it. The pair is read from its Secrets at
 * the first request, again at every login (so a renewed certificate is used from the next login
 * on), and again after a request Vault did not answer (a listener refuses an expired certificate in
 * the handshake), at most every 30 s, so an outage does not turn into Secret reads.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { VaultClientTls } from '../../api/providers/vault.js';
import type { StoreContext } from '../provider.js';
import { InvalidConfigError } from '../provider-errors.js';
import type { VaultAuthMethod } from './vault-auth.js';
import type { ClientCertificate } from './vault-transport.js';

/** After a request without an answer, the pair is read again at most this often. */
const REREAD_AFTER_FAILURE_MS = 30_000;

interface SecretKeyRef {
  name: string;
  key: string;
}

const where = (ref: SecretKeyRef) => `Secret '${ref.name}' key '${ref.key}'`;

/**
 * Checks that a certificate and key read from Secrets are PEM and a pair, so a wrong Secret is a
 * config error naming it rather than a TLS failure. `what` names the field ("cert auth", "tls").
 */
export function checkCertificatePair(what: string, certPem: string, keyPem: string, certRef: SecretKeyRef, keyRef: SecretKeyRef): ClientCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new InvalidConfigError(`${what}: ${where(certRef)} does not hold a PEM certificate`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new InvalidConfigError(`${what}: ${where(keyRef)} does not hold a PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new InvalidConfigError(`${what}: the private key in ${where(keyRef)} does not belong to the certificate in ${where(certRef)}`);
  }
  return { certPem, keyPem };
}

/** Reads the store's `tls` pair from its Secrets (the key registered with the scrubber) and checks it. */
export async function readClientTls(spec: VaultClientTls, ctx: StoreContext): Promise<ClientCertificate> {
  const [certPem, keyPem] = await Promise.all([ctx.credentials.readSecretKey(spec.certSecretRef), ctx.credentials.readSecretKey(spec.keySecretRef)]);
  ctx.scrubber.add(keyPem.trim());
  return checkCertificatePair('tls', certPem, keyPem, spec.certSecretRef, spec.keySecretRef);
}

/** The pair to present, read when first needed and again when marked stale; concurrent callers share one read. */
export class ClientTlsSource {
  private pair: ClientCertificate | undefined;
  private stale = true;
  private readAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<ClientCertificate> | undefined;

  constructor(
    private readonly read: () => Promise<ClientCertificate>,
    private readonly now: () => number = Date.now,
  ) {}

  current(): Promise<ClientCertificate> {
    if (this.pair && !this.stale) return Promise.resolve(this.pair);
    this.pending ??= this.read()
      .then((pair) => {
        this.pair = pair;
        this.stale = false;
        this.readAt = this.now();
        return pair;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** Read again before the next request (a login is about to be sent). */
  refresh(): void {
    this.stale = true;
  }

  /** A request got no answer (the handshake may have refused the certificate): read again, at most every 30 s. */
  failed(): void {
    if (this.now() - this.readAt >= REREAD_AFTER_FAILURE_MS) this.stale = true;
  }
}

/** The auth method, with the store's client certificate read again before each of its logins. */
export function refreshingClientTls(method: VaultAuthMethod, source: ClientTlsSource): VaultAuthMethod {
  return {
    description: method.description,
    issuesTokens: method.issuesTokens,
    login(api, signal) {
      source.refresh();
      return method.login(api, signal);
    },
  };
}
