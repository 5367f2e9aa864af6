// Small builders and readers for the e2e tests: manifests as JSON text (kubectl reads YAML 1.1,
// where a bare `y` is a boolean), objects read back as JSON.
const stringify = (obj: unknown) => JSON.stringify(obj);
import type { TestCluster } from '../harness/cluster.js';

export interface FakeEntry {
  key: string;
  value: string;
  version?: string;
}

export function secretStore(namespace: string, name: string, data: FakeEntry[], refreshInterval?: string): string {
  return stringify({
    apiVersion: 'lockstep.dev/v1alpha1',
    kind: 'SecretStore',
    metadata: { name, namespace },
    spec: { ...(refreshInterval ? { refreshInterval } : {}), provider: { fake: { data } } },
  });
}

export function externalSecret(namespace: string, name: string, spec: Record<string, unknown>): string {
  return stringify({ apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', metadata: { name, namespace }, spec });
}

export async function apply(cluster: TestCluster, yaml: string): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], yaml);
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

export interface ObjectJson {
  metadata: { name: string; resourceVersion: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: unknown[]; generation?: number };
  data?: Record<string, string>;
  status?: { conditions?: Condition[]; refreshTime?: string; syncedResourceVersion?: string; binding?: { name: string } };
  type?: string;
}

export async function getJson(cluster: TestCluster, kind: string, namespace: string | undefined, name: string): Promise<ObjectJson | undefined> {
  const ns = namespace ? ['-n', namespace] : [];
  const out = await cluster.kubectl(['get', kind, name, ...ns, '-o', 'json', '--ignore-not-found']);
  return out.trim() ? (JSON.parse(out) as ObjectJson) : undefined;
}

export function readyOf(obj: ObjectJson | undefined): Condition | undefined {
  return obj?.status?.conditions?.find((c) => c.type === 'Ready');
}

export function decodeData(obj: ObjectJson | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(obj?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}
