/**
 * The serving certificate of the injection webhook and the agents' API, when the operator manages
 * it itself (the chart's default; with cert-manager the files come from a mounted Secret instead).
 *
 * Every replica calls ensureServingCertificate at start: the first creates a CA and a serving
 * certificate (ECDSA P-256) in a Secret of the operator's namespace, the others read it (a lost
 * create race re-reads), so all replicas serve the same certificate. It is renewed (CA included)
 * at a start that finds it expiring within 30 days or missing a name. The CA goes into the
 * MutatingWebhookConfiguration's caBundle and into each injected agent.
 */
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import { CoreResources, type KubeClient, type KubeObject, type Resource } from '../kube/kube-port.js';
import { ConflictError } from '../kube/kube-errors.js';

export interface ServingCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export const MutatingWebhookConfigurationResource: Resource = {
  group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false,
};

const DAY_MS = 86_400_000;
const RENEW_BEFORE_MS = 30 * DAY_MS;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A new CA and a serving certificate for `hosts` (DNS names and IP addresses), valid for a year. */
export async function issueServingCertificate(hosts: string[], now = new Date()): Promise<ServingCertificate> {
  const notAfter = new Date(now.getTime() + 365 * DAY_MS);
  const notBefore = new Date(now.getTime() - 60_000);
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=lockstep-webhook-ca', notBefore, notAfter: new Date(now.getTime() + 2 * 365 * DAY_MS), keys: caKeys, signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const names = hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }) as x509.JsonGeneralName);
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${hosts[0] ?? 'lockstep-webhook'}`, issuer: ca.subject, notBefore, notAfter,
    publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1']),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

/** True when the certificate names every host and stays valid for more than the renewal margin. */
export function isUsable(cert: ServingCertificate, hosts: string[], now = new Date()): boolean {
  try {
    const parsed = new NodeX509(cert.certPem);
    if (new Date(parsed.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return false;
    if (!parsed.verify(new NodeX509(cert.caPem).publicKey)) return false;
    return hosts.every((h) => (isIP(h) ? parsed.checkIP(h) !== undefined : parsed.checkHost(h) !== undefined));
  } catch {
    return false;
  }
}

type SecretObject = KubeObject & { data?: Record<string, string> };

/** Reads the certificate from its Secret, creating or renewing it when needed. */
export async function ensureServingCertificate(
  kube: KubeClient,
  where: { namespace: string; secretName: string },
  hosts: string[],
): Promise<ServingCertificate> {
  for (let attempt = 0; ; attempt++) {
    const current = await kube.get<SecretObject>(CoreResources.secret, where.secretName, where.namespace);
    const stored = current ? fromSecret(current) : undefined;
    if (stored && isUsable(stored, hosts)) return stored;
    const issued = await issueServingCertificate(hosts);
    const body: SecretObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: where.secretName, namespace: where.namespace, labels: { 'app.kubernetes.io/name': 'lockstep' } },
      data: {
        'ca.crt': Buffer.from(issued.caPem).toString('base64'),
        'tls.crt': Buffer.from(issued.certPem).toString('base64'),
        'tls.key': Buffer.from(issued.keyPem).toString('base64'),
      },
    };
    try {
      // A merge patch carrying the resourceVersion we read fails with a conflict if another replica renewed it first.
      if (current) await kube.patch(CoreResources.secret, where.secretName, where.namespace, { metadata: { resourceVersion: current.metadata.resourceVersion }, data: body.data });
      else await kube.create(CoreResources.secret, body);
      return issued;
    } catch (err) {
      // Another replica wrote it first: use theirs.
      if (!(err instanceof ConflictError) || attempt >= 3) throw err;
    }
  }
}

function fromSecret(secret: SecretObject): ServingCertificate | undefined {
  const d = secret.data ?? {};
  const text = (k: string) => (d[k] ? Buffer.from(d[k], 'base64').toString('utf8') : undefined);
  const caPem = text('ca.crt');
  const certPem = text('tls.crt');
  const keyPem = text('tls.key');
  return caPem && certPem && keyPem ? { caPem, certPem, keyPem } : undefined;
}

/**
 * Puts the CA into every webhook of the MutatingWebhookConfiguration. Returns false when the
 * configuration does not exist (the chart was installed without it, or it is managed elsewhere).
 */
export async function injectCaBundle(kube: KubeClient, configName: string, caPem: string): Promise<boolean> {
  const config = await kube.get<KubeObject & { webhooks?: { clientConfig?: { caBundle?: string } }[] }>(MutatingWebhookConfigurationResource, configName);
  if (!config) return false;
  const bundle = Buffer.from(caPem).toString('base64');
  const ops = (config.webhooks ?? []).flatMap((w, i) => (w.clientConfig?.caBundle === bundle ? [] : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle }]));
  if (ops.length === 0) return true;
  await kube.patch(MutatingWebhookConfigurationResource, configName, undefined, [
    { op: 'test', path: '/metadata/resourceVersion', value: config.metadata.resourceVersion }, ...ops,
  ], { type: 'json' });
  return true;
}
