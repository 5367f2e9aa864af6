/**
 * Who may read /metrics when it is served beyond loopback: the caller's bearer token is checked
 * with a TokenReview, and the user it names must be allowed `get` on the non-resource URL
 * /metrics (a SubjectAccessReview), as controller-runtime's secure metrics do. Grant it with the
 * `lockstep-metrics-reader` ClusterRole. Answers are cached briefly per token (by its hash), so a
 * scrape every few seconds costs the API server two requests a minute at most.
 */
import { createHash } from 'node:crypto';
import type { KubeClient, KubeObject, Resource } from '../kube/kube-port.js';

const TOKEN_REVIEWS: Resource = { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', kind: 'TokenReview', namespaced: false };
const ACCESS_REVIEWS: Resource = {
  group: 'authorization.k8s.io', version: 'v1', plural: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false,
};
const CACHE_MS = 60_000;
const MAX_CACHED = 256;

export interface MetricsDecision {
  status: 200 | 401 | 403;
  message: string;
}

export interface MetricsAuthorizer {
  /** The decision for a request with this Authorization header. */
  check(authorization: string | undefined): Promise<MetricsDecision>;
}

interface ReviewedUser {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export function buildMetricsAuthorizer(kube: Pick<KubeClient, 'create'>, now: () => number = Date.now, path = '/metrics'): MetricsAuthorizer {
  const cache = new Map<string, { decision: MetricsDecision; until: number }>();
  const decide = async (token: string): Promise<MetricsDecision> => {
    const review = await kube.create<KubeObject>(TOKEN_REVIEWS, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token } });
    const status = review['status'] as { authenticated?: boolean; user?: ReviewedUser } | undefined;
    if (!status?.authenticated || !status.user?.username) return { status: 401, message: 'the bearer token is not valid' };
    const { username, uid, groups, extra } = status.user;
    const access = await kube.create<KubeObject>(ACCESS_REVIEWS, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
      spec: { user: username, uid, groups, extra, nonResourceAttributes: { path, verb: 'get' } },
    });
    if ((access['status'] as { allowed?: boolean } | undefined)?.allowed) return { status: 200, message: 'ok' };
    return { status: 403, message: `${username} may not get ${path} (bind a ClusterRole that allows it, such as lockstep-metrics-reader)` };
  };
  return {
    async check(authorization) {
      const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      if (!token) return { status: 401, message: 'a bearer token is required' };
      const key = createHash('sha256').update(token).digest('hex');
      const hit = cache.get(key);
      if (hit && hit.until > now()) return hit.decision;
      const decision = await decide(token);
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(key, { decision, until: now() + CACHE_MS });
      return decision;
    },
  };
}
