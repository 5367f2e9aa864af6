/** The `gcp` provider: Google Cloud Secret Manager over gRPC. */
import type { GcpProviderSpec } from '../../api/providers/gcp.js';
import type { ChosenEndpoint, Provider, StoreAccess, StoreContext } from '../provider.js';
import { InvalidConfigError } from '../provider-errors.js';
import { networkOf } from '../store-network.js';
import { buildSdkClient, type GcpCredentials, parseEndpoint, SdkSecretManagerApi } from './gcp-api.js';
import { buildWorkloadIdentityAuthClient, buildTokenAudiences, readServiceAccountKey, WorkloadIdentityTokenSource } from './gcp-auth.js';
import { GcpSecretsClient } from './gcp-secrets-client.js';
import { buildTrustedRoots, checkCaBundle } from './gcp-tls.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function checkTokenUrl(field: string, url: string | undefined): string[] {
  if (!url?.startsWith('http:')) return [];
  const host = new URL(url).hostname;
  return LOOPBACK_HOSTS.has(host) ? [] : [`${field} must use https (plain http is only accepted for a loopback address)`];
}

export function validateGcpConfig(config: GcpProviderSpec): string[] {
  const problems: string[] = [];
  if (config.insecure && !config.endpoint) problems.push('insecure needs an endpoint: it is only for a local emulator');
  if (config.insecure && config.caBundle) problems.push('caBundle has no effect with insecure, which connects without TLS');
  problems.push(...checkCaBundle(config.caBundle));
  if (config.endpoint) {
    const { port } = parseEndpoint(config.endpoint);
    if (!(port >= 1 && port <= 65535)) problems.push(`endpoint '${config.endpoint}' has no valid port`);
  }
  const methods = Object.values(config.auth).filter((m) => m !== undefined).length;
  if (methods !== 1) problems.push('auth must set exactly one of secretRef or workloadIdentity');
  const wi = config.auth.workloadIdentity;
  if (wi) {
    problems.push(...checkTokenUrl('auth.workloadIdentity.stsEndpoint', wi.stsEndpoint));
    problems.push(...checkTokenUrl('auth.workloadIdentity.iamCredentialsEndpoint', wi.iamCredentialsEndpoint));
  }
  return problems;
}

interface Credentials {
  creds: GcpCredentials;
  prepare?: (signal: AbortSignal) => Promise<void>;
  dispose?: () => Promise<void>;
}

async function buildCredentials(config: GcpProviderSpec, ctx: StoreContext): Promise<Credentials> {
  const { secretRef, workloadIdentity } = config.auth;
  if (secretRef) return { creds: { key: await readServiceAccountKey(secretRef.secretAccessKeySecretRef, ctx) } };
  if (!workloadIdentity) throw new InvalidConfigError('auth must set exactly one of secretRef or workloadIdentity');
  // The token endpoints trust the same extra CAs as the gRPC endpoint, and are dialed through the store's network.
  const tls = networkOf(ctx).fetch(config.caBundle ? { ca: buildTrustedRoots(config.caBundle) } : {});
  const source = new WorkloadIdentityTokenSource(workloadIdentity, ctx, { fetchFn: tls.fetchFn });
  // With `insecure` nothing is sent to the server, so no token is exchanged either.
  const prepare = config.insecure ? undefined : async (signal: AbortSignal) => void (await source.token(signal));
  return { creds: { authClient: buildWorkloadIdentityAuthClient(source) }, prepare, dispose: tls.close };
}

/** The gRPC endpoint, the token endpoints and the workload identity token a store asks for; GCP has no ambient identity here. */
export function describeGcpAccess(config: GcpProviderSpec): StoreAccess {
  const field = 'spec.provider.gcp';
  const endpoints: ChosenEndpoint[] = [];
  if (config.endpoint) endpoints.push({ field: `${field}.endpoint`, endpoint: config.endpoint, plaintext: config.insecure === true });
  const wi = config.auth.workloadIdentity;
  if (wi?.stsEndpoint) endpoints.push({ field: `${field}.auth.workloadIdentity.stsEndpoint`, endpoint: wi.stsEndpoint });
  if (wi?.iamCredentialsEndpoint) endpoints.push({ field: `${field}.auth.workloadIdentity.iamCredentialsEndpoint`, endpoint: wi.iamCredentialsEndpoint });
  const tokens = wi ? [{ field: `${field}.auth.workloadIdentity.serviceAccountRef`, audiences: buildTokenAudiences(wi) }] : [];
  return { endpoints, tokens };
}

export const gcpProvider: Provider<GcpProviderSpec> = {
  name: 'gcp',
  readsMetadata: true,
  validateConfig: validateGcpConfig,
  describeAccess: describeGcpAccess,
  async connect(config, ctx) {
    const problems = validateGcpConfig(config);
    if (problems.length > 0) throw new InvalidConfigError(`gcp provider: ${problems.join('; ')}`);
    const { creds, prepare, dispose } = await buildCredentials(config, ctx);
    const api = new SdkSecretManagerApi(buildSdkClient(config, creds, networkOf(ctx)), ctx.budget);
    return new GcpSecretsClient(api, { projectID: config.projectID, prepare, dispose, log: ctx.log });
  },
};
