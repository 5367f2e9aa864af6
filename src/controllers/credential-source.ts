/**
 * Credentials a store may use: Secrets and ServiceAccounts in the store's own namespace, or — for a
 * ClusterSecretStore — in the namespace the store's reference names. Never the ExternalSecret's.
 */
import { ForbiddenError, NotFoundError } from '../kube/kube-errors.js';
import { CoreResources, type KubeClient, type KubeObject } from '../kube/kube-port.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';
import type { StoreIdentity } from '../providers/client-cache.js';
import type { CredentialSource } from '../providers/provider.js';
import { AuthError, InvalidConfigError, NotAllowedError, UnavailableError } from '../providers/provider-errors.js';
import { checkTokenAudiences, DEFAULT_APISERVER_AUDIENCES } from '../providers/tenant-policy.js';
import { Reasons } from '../api/constants.js';

type SecretObject = KubeObject & { data?: Record<string, string> };
/** Every token lives 10 minutes, the TokenRequest minimum, whatever a provider asks. */
export const TOKEN_SECONDS = 600;

export interface CredentialSourceOptions {
  /** The audiences the Kubernetes API server accepts: a token for one of them, or for none, is never requested. */
  apiserverAudiences?: () => Promise<ReadonlySet<string>>;
}

const defaultAudiences = () => Promise.resolve(new Set(DEFAULT_APISERVER_AUDIENCES));

export function buildCredentialSource(
  kube: KubeClient,
  scrubber: SecretScrubber,
  store: StoreIdentity,
  opts: CredentialSourceOptions = {},
): CredentialSource {
  const namespaceOf = (what: string, requested?: string): string => {
    if (store.kind === 'SecretStore') {
      if (requested && requested !== store.namespace) {
        throw new InvalidConfigError(`a SecretStore reads ${what} from its own namespace '${store.namespace}'; remove namespace '${requested}'`);
      }
      return store.namespace as string;
    }
    if (!requested) throw new InvalidConfigError(`a ClusterSecretStore must name the namespace of ${what}`);
    return requested;
  };
  return {
    async readSecretKey(ref) {
      const namespace = namespaceOf(`Secret '${ref.name}'`, ref.namespace);
      const secret = await kube.get<SecretObject>(CoreResources.secret, ref.name, namespace);
      if (!secret) throw new InvalidConfigError(`credentials Secret '${namespace}/${ref.name}' does not exist`);
      const encoded = secret.data?.[ref.key];
      if (encoded === undefined) throw new InvalidConfigError(`credentials Secret '${namespace}/${ref.name}' has no key '${ref.key}'`);
      const value = Buffer.from(encoded, 'base64').toString('utf8');
      scrubber.add(value);
      return value;
    },
    async requestServiceAccountToken(ref) {
      const namespace = namespaceOf(`ServiceAccount '${ref.name}'`, ref.namespace);
      // The last line of defence (the tenant policy refuses such stores before they connect).
      const refused = checkTokenAudiences(`the token for ServiceAccount '${namespace}/${ref.name}'`, ref.audiences, await (opts.apiserverAudiences ?? defaultAudiences)());
      if (refused) throw new NotAllowedError(Reasons.tokenAudienceNotAllowed, refused);
      const issued = await kube
        .createToken(namespace, ref.name, { audiences: ref.audiences, expirationSeconds: Math.min(ref.expirationSeconds ?? TOKEN_SECONDS, TOKEN_SECONDS) })
        .catch((err: unknown) => {
          const what = `ServiceAccount '${namespace}/${ref.name}'`;
          if (err instanceof NotFoundError) throw new InvalidConfigError(`${what} does not exist`, { cause: err });
          if (err instanceof ForbiddenError) throw new AuthError(`the operator may not request tokens for ${what}`, { cause: err });
          throw new UnavailableError(`requesting a token for ${what} failed`, { cause: err });
        });
      scrubber.add(issued.token);
      return issued;
    },
  };
}
