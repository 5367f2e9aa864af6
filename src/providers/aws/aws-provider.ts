/** The `aws` provider: AWS Secrets Manager, authenticated by static keys or a ServiceAccount token. */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsProviderSpec } from '../../api/providers/aws.js';
import type { Provider, SecretsClient, StoreAccess, StoreContext } from '../provider.js';
import { networkOf } from '../store-network.js';
import { InvalidConfigError, isProviderError, UnavailableError } from '../provider-errors.js';
import { AwsSecretsClient } from './aws-client.js';
import { buildCredentialProvider, STS_AUDIENCE } from './aws-credentials.js';
import { AttemptLog, buildSdkOptions, spendBudgetPerCall } from './aws-sdk-options.js';
import { SecretBatchLoader } from './secret-batch-loader.js';

export interface AwsProviderOptions {
  /** Called with each new Secrets Manager client (tests add middleware to count requests). */
  onClient?: (sm: SecretsManagerClient) => void;
  /** When a batch of reads is sent; DataLoader's default is the end of the current tick. */
  batchScheduleFn?: (callback: () => void) => void;
}

function isUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

export function validateAwsConfig(config: AwsProviderSpec): string[] {
  const problems: string[] = [];
  const methods = Object.entries(config.auth ?? {}).filter(([, v]) => v !== undefined);
  if (methods.length !== 1) problems.push('auth must set exactly one of secretRef or jwt');
  if (config.auth?.jwt && !config.role) problems.push('auth.jwt needs role: the IAM role the ServiceAccount token is exchanged for');
  problems.push(...roleOptionProblems(config));
  if (config.endpoint && !isUrl(config.endpoint)) problems.push(`endpoint '${config.endpoint}' is not an http(s) URL`);
  if (config.stsEndpoint && !isUrl(config.stsEndpoint)) problems.push(`stsEndpoint '${config.stsEndpoint}' is not an http(s) URL`);
  return problems;
}

/** externalID, sessionTags and transitiveTagKeys go with the sts:AssumeRole of role, which only static keys make. */
function roleOptionProblems(config: AwsProviderSpec): string[] {
  const problems: string[] = [];
  const options = (['externalID', 'sessionTags', 'transitiveTagKeys'] as const).filter((f) => config[f] !== undefined);
  if (options.length > 0 && (!config.role || !config.auth?.secretRef)) {
    problems.push(`${options.join(', ')} ${options.length > 1 ? 'are' : 'is'} sent when role is assumed with sts:AssumeRole: set role and auth.secretRef`);
  }
  const tagKeys = new Set(config.sessionTags?.map((t) => t.key) ?? []);
  const strays = (config.transitiveTagKeys ?? []).filter((k) => !tagKeys.has(k));
  if (strays.length > 0) problems.push(`transitiveTagKeys ${strays.map((k) => `'${k}'`).join(', ')} not among the keys of sessionTags`);
  if (tagKeys.size !== (config.sessionTags?.length ?? 0)) problems.push('sessionTags has a key more than once');
  return problems;
}

/** The endpoints a store chooses and the web identity token it requests; AWS has no ambient identity here (no default chain). */
export function describeAwsAccess(config: AwsProviderSpec): StoreAccess {
  const endpoints = [];
  if (config.endpoint) endpoints.push({ field: 'spec.provider.aws.endpoint', endpoint: config.endpoint });
  if (config.stsEndpoint) endpoints.push({ field: 'spec.provider.aws.stsEndpoint', endpoint: config.stsEndpoint });
  const sa = config.auth?.jwt?.serviceAccountRef;
  const tokens = sa ? [{ field: 'spec.provider.aws.auth.jwt.serviceAccountRef', audiences: sa.audiences ?? [STS_AUDIENCE] }] : [];
  return { endpoints, tokens };
}

async function connectAws(config: AwsProviderSpec, ctx: StoreContext, opts: AwsProviderOptions): Promise<SecretsClient> {
  const problems = validateAwsConfig(config);
  if (problems.length > 0) throw new InvalidConfigError(problems.join('; '));
  const credentials = await buildCredentialProvider(config, ctx).catch((err: unknown) => {
    throw isProviderError(err) ? err : new UnavailableError('reading the store credentials failed', { cause: err });
  });
  const network = networkOf(ctx);
  const sm = new SecretsManagerClient({ ...buildSdkOptions(config, config.endpoint, network), credentials: credentials.provide });
  const sts = new STSClient({ ...buildSdkOptions(config, config.stsEndpoint ?? config.endpoint, network), credentials: credentials.provide });
  const attempts = new AttemptLog();
  spendBudgetPerCall(sm, ctx.budget, attempts);
  spendBudgetPerCall(sts, ctx.budget);
  opts.onClient?.(sm);
  const loader = new SecretBatchLoader(sm, { batchScheduleFn: opts.batchScheduleFn ?? batchWindow, attempts });
  ctx.log.debug({ region: config.region, auth: config.auth.jwt ? 'jwt' : 'secretRef', role: config.role, additionalRoles: config.additionalRoles }, 'aws client ready');
  return new AwsSecretsClient({ sm, sts, credentials, loader });
}

export function createAwsProvider(opts: AwsProviderOptions = {}): Provider<AwsProviderSpec> {
  return {
    name: 'aws',
    readsMetadata: true,
    validateConfig: validateAwsConfig,
    describeAccess: describeAwsAccess,
    connect: (config, ctx) => connectAws(config, ctx, opts),
  };
}

export const awsProvider: Provider<AwsProviderSpec> = createAwsProvider();

/**
 * Reads asked for within this window go out in one BatchGetSecretValue: long enough for the
 * concurrent reconciles of several workers to meet, short against a provider round trip.
 */
const BATCH_WINDOW_MS = 10;

function batchWindow(callback: () => void): void {
  setTimeout(callback, BATCH_WINDOW_MS);
}
