/**
 * Who is asking for files: the agent's projected ServiceAccount token, checked by the apiserver
 * (TokenReview) for the agent's own audience. A token minted for any other audience (the
 * apiserver's own included) is refused. Results are cached briefly by a hash of the token, so a
 * long-polling agent costs one TokenReview per few minutes, not one per request.
 */
import { createHash } from 'node:crypto';
import type { KubeClient, KubeObject, Resource } from '../kube/kube-port.js';

export const TokenReviewResource: Resource = {
  group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', kind: 'TokenReview', namespaced: false,
};

export interface AgentIdentity {
  namespace: string;
  serviceAccount: string;
  /** The pod the token is bound to (projected tokens are). */
  pod?: { name: string; uid: string };
}

export class AuthenticationError extends Error {}

interface TokenReview extends KubeObject {
  status?: {
    authenticated?: boolean;
    error?: string;
    audiences?: string[];
    user?: { username?: string; extra?: Record<string, string[]> };
  };
}

const CACHE_MS = 120_000;
const MAX_CACHED = 20_000;

export class AgentAuthenticator {
  private readonly cache = new Map<string, { identity: AgentIdentity; until: number }>();

  constructor(private readonly deps: { kube: KubeClient; audience: string; now?: () => number }) {}

  async authenticate(authorization: string | undefined): Promise<AgentIdentity> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new AuthenticationError('a bearer token (the projected ServiceAccount token of the agent) is required');
    const now = (this.deps.now ?? Date.now)();
    const digest = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(digest);
    if (hit && hit.until > now) return hit.identity;
    const review = await this.deps.kube.create<TokenReview>(TokenReviewResource, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      metadata: {},
      spec: { token, audiences: [this.deps.audience] },
    });
    const status = review.status;
    if (!status?.authenticated || !status.audiences?.includes(this.deps.audience)) {
      throw new AuthenticationError(`the token was not accepted for audience '${this.deps.audience}'`);
    }
    const identity = parseServiceAccount(status.user?.username, status.user?.extra);
    if (!identity) throw new AuthenticationError('only ServiceAccount tokens are accepted');
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(digest, { identity, until: now + CACHE_MS });
    return identity;
  }
}

export function parseServiceAccount(username: string | undefined, extra: Record<string, string[]> = {}): AgentIdentity | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username ?? '');
  if (!m) return undefined;
  const podName = extra['authentication.kubernetes.io/pod-name']?.[0];
  const podUid = extra['authentication.kubernetes.io/pod-uid']?.[0];
  return {
    namespace: m[1] as string,
    serviceAccount: m[2] as string,
    ...(podName && podUid ? { pod: { name: podName, uid: podUid } } : {}),
  };
}
