/**
 * Credentials for one store: static keys from Secrets, optionally exchanged for a role session
 * (sts:AssumeRole), or a ServiceAccount token exchanged by sts:AssumeRoleWithWebIdentity.
 * Never the SDK's default credential chain (it would probe instance metadata).
 */
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  type Credentials as StsCredentials,
  STSClient,
} from '@aws-sdk/client-sts';
import type { AwsProviderSpec } from '../../api/providers/aws.js';
import type { StoreContext } from '../provider.js';
import { AuthError, InvalidConfigError } from '../provider-errors.js';
import { mapAwsError } from './aws-errors.js';
import { buildSdkOptions, spendBudgetPerCall } from './aws-sdk-options.js';
import { networkOf } from '../store-network.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export const STS_AUDIENCE = 'sts.amazonaws.com';
const SESSION_SECONDS = 3600;
/** The ServiceAccount token lives 10 minutes (the TokenRequest minimum): it is used once, for one AssumeRoleWithWebIdentity. */
const SERVICE_ACCOUNT_TOKEN_SECONDS = 600;

/**
 * Caches credentials and loads new ones before they expire: when less than a third of their
 * lifetime or five minutes (whichever is less) is left. Concurrent callers share one load.
 */
export class RefreshingCredentials {
  private current: { creds: AwsCredentials; refreshAt: number } | undefined;
  private loading: Promise<AwsCredentials> | undefined;

  constructor(
    private readonly load: () => Promise<AwsCredentials>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The SDK's credential provider. */
  readonly provide = (): Promise<AwsCredentials> => {
    if (this.current && this.now() < this.current.refreshAt) return Promise.resolve(this.current.creds);
    this.loading ??= this.load()
      .then((creds) => {
        this.current = { creds, refreshAt: this.computeRefreshAt(creds) };
        return creds;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  };

  private computeRefreshAt(creds: AwsCredentials): number {
    if (!creds.expiration) return Number.POSITIVE_INFINITY;
    const now = this.now();
    const lifetime = creds.expiration.getTime() - now;
    return now + lifetime - Math.min(lifetime / 3, 5 * 60_000);
  }
}

function fromSts(creds: StsCredentials | undefined, what: string): AwsCredentials {
  if (!creds?.AccessKeyId || !creds.SecretAccessKey) throw new AuthError(`${what} returned no credentials`);
  return {
    accessKeyId: creds.AccessKeyId,
    secretAccessKey: creds.SecretAccessKey,
    sessionToken: creds.SessionToken,
    expiration: creds.Expiration,
  };
}

/** A role session name STS accepts ([\w+=,.@-]{2,64}) that says which store it is. */
export function buildSessionName(ctx: Pick<StoreContext, 'storeName' | 'namespace'>): string {
  const raw = `lockstep-${ctx.namespace ? `${ctx.namespace}.` : ''}${ctx.storeName}`;
  return raw.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

function register(ctx: StoreContext, creds: AwsCredentials): AwsCredentials {
  ctx.scrubber.add(creds.secretAccessKey);
  if (creds.sessionToken) ctx.scrubber.add(creds.sessionToken);
  return creds;
}

async function readStaticKeys(auth: NonNullable<AwsProviderSpec['auth']['secretRef']>, ctx: StoreContext): Promise<AwsCredentials> {
  const read = async (ref: typeof auth.accessKeyIDSecretRef) => {
    const value = (await ctx.credentials.readSecretKey(ref)).trim();
    if (!value) throw new InvalidConfigError(`key '${ref.key}' of Secret '${ref.name}' is empty`);
    ctx.scrubber.add(value);
    return value;
  };
  const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all([
    read(auth.accessKeyIDSecretRef),
    read(auth.secretAccessKeySecretRef),
    auth.sessionTokenSecretRef ? read(auth.sessionTokenSecretRef) : Promise.resolve(undefined),
  ]);
  return { accessKeyId, secretAccessKey, sessionToken };
}

function stsClient(config: AwsProviderSpec, credentials: () => Promise<AwsCredentials>, ctx: StoreContext): STSClient {
  const sts = new STSClient({ ...buildSdkOptions(config, config.stsEndpoint ?? config.endpoint, networkOf(ctx)), credentials });
  spendBudgetPerCall(sts, ctx.budget);
  return sts;
}

const noCredentials = () => Promise.reject(new InvalidConfigError('STS web identity calls are unsigned; no credentials are used'));

function webIdentityLoader(config: AwsProviderSpec, sts: STSClient, ctx: StoreContext): () => Promise<AwsCredentials> {
  const sa = config.auth.jwt?.serviceAccountRef;
  if (!sa || !config.role) throw new InvalidConfigError('auth.jwt needs auth.jwt.serviceAccountRef and role');
  const { role } = config;
  return async () => {
    const { token } = await ctx.credentials.requestServiceAccountToken({
      name: sa.name,
      namespace: sa.namespace,
      audiences: sa.audiences ?? [STS_AUDIENCE],
      expirationSeconds: SERVICE_ACCOUNT_TOKEN_SECONDS,
    });
    ctx.scrubber.add(token);
    const what = `assuming role '${role}' with the token of ServiceAccount '${sa.name}'`;
    const input = { RoleArn: role, RoleSessionName: buildSessionName(ctx), WebIdentityToken: token, DurationSeconds: SESSION_SECONDS };
    const out = await sts.send(new AssumeRoleWithWebIdentityCommand(input)).catch((err: unknown) => {
      throw mapAwsError(err, { what, invalid: 'config' });
    });
    return register(ctx, fromSts(out.Credentials, what));
  };
}

/** One sts:AssumeRole of a chain: the role, and the external ID and session tags sent with it. */
export interface AssumeRoleStep {
  role: string;
  externalId?: string;
  tags?: { Key: string; Value: string }[];
  transitiveTagKeys?: string[];
  /** Says where the role is in the chain, for messages ("additionalRoles[1]"). */
  field: string;
}

/**
 * The roles a store assumes after its first credentials, in order, as ESO does: with static keys
 * additionalRoles then role (the external ID and session tags go with role); with a web identity
 * session of role, additionalRoles.
 */
export function buildRoleChain(config: AwsProviderSpec): AssumeRoleStep[] {
  const steps: AssumeRoleStep[] = (config.additionalRoles ?? []).map((role, i) => ({ role, field: `additionalRoles[${i}]` }));
  if (config.auth.jwt || !config.role) return steps;
  const tags = config.sessionTags?.map((t) => ({ Key: t.key, Value: t.value }));
  steps.push({
    role: config.role,
    field: 'role',
    ...(config.externalID ? { externalId: config.externalID } : {}),
    ...(tags?.length ? { tags, ...(config.transitiveTagKeys?.length ? { transitiveTagKeys: config.transitiveTagKeys } : {}) } : {}),
  });
  return steps;
}

export function assumeRoleLoader(step: AssumeRoleStep, sts: Pick<STSClient, 'send'>, ctx: StoreContext, chained: boolean) {
  const what = `assuming role '${step.role}' (${step.field}${chained ? ', with the credentials of the role before it' : ''})`;
  return async (): Promise<AwsCredentials> => {
    const input = {
      RoleArn: step.role,
      RoleSessionName: buildSessionName(ctx),
      // A chained session lasts at most one hour, which is also what we ask for.
      DurationSeconds: SESSION_SECONDS,
      ExternalId: step.externalId,
      Tags: step.tags,
      TransitiveTagKeys: step.transitiveTagKeys,
    };
    const out = await sts.send(new AssumeRoleCommand(input)).catch((err: unknown) => {
      throw mapAwsError(err, { what, invalid: 'config' });
    });
    return register(ctx, fromSts(out.Credentials, what));
  };
}

export interface CredentialProvider {
  provide: () => Promise<AwsCredentials>;
  /** Closes the STS client, if one was opened. */
  close(): void;
}

/** The credential provider the store's SDK clients use; static keys are read once, here. */
export async function buildCredentialProvider(config: AwsProviderSpec, ctx: StoreContext): Promise<CredentialProvider> {
  const clients: STSClient[] = [];
  let provide: () => Promise<AwsCredentials>;
  if (config.auth.jwt) {
    const sts = stsClient(config, noCredentials, ctx);
    clients.push(sts);
    provide = new RefreshingCredentials(webIdentityLoader(config, sts, ctx)).provide;
  } else {
    if (!config.auth.secretRef) throw new InvalidConfigError('auth must set secretRef or jwt');
    const keys = await readStaticKeys(config.auth.secretRef, ctx);
    provide = () => Promise.resolve(keys);
  }
  // Each role is assumed with the credentials of the one before, refreshed on its own schedule.
  const steps = buildRoleChain(config);
  steps.forEach((step, i) => {
    const sts = stsClient(config, provide, ctx);
    clients.push(sts);
    provide = new RefreshingCredentials(assumeRoleLoader(step, sts, ctx, i > 0 || Boolean(config.auth.jwt))).provide;
  });
  return { provide, close: () => clients.forEach((c) => c.destroy()) };
}
