// Workload manifests and readers for the rollout tests.
import type { TestCluster } from '../harness/cluster.js';

export interface WorkloadOptions {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  replicas?: number;
  env?: { name: string; secret: string; key: string }[];
  envFrom?: string[];
  volumes?: string[];
}

function podTemplate(name: string, o: WorkloadOptions) {
  return {
    metadata: { labels: { app: name } },
    spec: {
      containers: [{
        name: 'app',
        image: 'registry.invalid/app:1',
        env: (o.env ?? []).map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: e.secret, key: e.key } } })),
        envFrom: (o.envFrom ?? []).map((s) => ({ secretRef: { name: s } })),
        volumeMounts: (o.volumes ?? []).map((s) => ({ name: s, mountPath: `/secrets/${s}` })),
      }],
      volumes: (o.volumes ?? []).map((s) => ({ name: s, secret: { secretName: s } })),
    },
  };
}

export function workload(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', namespace: string, name: string, o: WorkloadOptions = {}): string {
  const spec: Record<string, unknown> = { selector: { matchLabels: { app: name } }, template: podTemplate(name, o) };
  if (kind !== 'DaemonSet') spec['replicas'] = o.replicas ?? 0;
  if (kind === 'StatefulSet') spec['serviceName'] = name;
  return JSON.stringify({ apiVersion: 'apps/v1', kind, metadata: { name, namespace, labels: o.labels, annotations: o.annotations }, spec });
}

export interface WorkloadJson {
  metadata: { generation: number; annotations?: Record<string, string> };
  spec: { template: { metadata: { annotations?: Record<string, string> } } };
}

export async function getWorkload(cluster: TestCluster, kind: string, namespace: string, name: string): Promise<WorkloadJson> {
  return JSON.parse(await cluster.kubectl(['get', kind, name, '-n', namespace, '-o', 'json'])) as WorkloadJson;
}

export async function replicaSets(cluster: TestCluster, namespace: string, app: string): Promise<number> {
  const out = await cluster.kubectl(['get', 'replicasets', '-n', namespace, '-l', `app=${app}`, '-o', 'name']);
  return out.split('\n').filter(Boolean).length;
}

export async function eventReasons(cluster: TestCluster, namespace: string, name: string): Promise<string[]> {
  const out = await cluster.kubectl(['get', 'events.events.k8s.io', '-n', namespace, '--field-selector', `regarding.name=${name}`, '-o', 'jsonpath={.items[*].reason}']);
  return out.split(' ').filter(Boolean);
}
