// Runs the operator as the Helm chart's own ServiceAccount, holding exactly the RBAC the chart
// renders (not the admin kubeconfig), so that an e2e suite proves the shipped rights suffice.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { buildHelm, findHelm, parseManifests } from '../chart/helm-cli.js';
import { kubectl } from '../harness/cluster.js';

export type ChartRbac = 'chart' | 'chart-namespaced';

export interface ChartIdentity {
  /** A kubeconfig whose only credential is a token of the chart's ServiceAccount. */
  kubeconfigPath: string;
  /** The flags the chart's Deployment passes that change what the operator asks the API server for. */
  args: string[];
  /** Deletes what is cluster-scoped (namespaced objects go with their namespaces). */
  remove(): Promise<void>;
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
const SHAPING_FLAGS = ['--namespace=', '--no-cluster-stores', '--argo-rollouts=', '--metrics-auth='];

interface Kubeconfig {
  'current-context': string;
  contexts: { name: string; context: { cluster: string } }[];
  clusters: { name: string; cluster: Record<string, unknown> }[];
}

/**
 * Renders the chart for `operatorNamespace` (the release namespace) watching `watchNamespaces`,
 * applies its ServiceAccount and RBAC with the admin kubeconfig, and writes a kubeconfig holding
 * a token of that ServiceAccount.
 */
export async function chartIdentity(
  adminKubeconfig: string,
  operatorNamespace: string,
  watchNamespaces: string[],
  mode: ChartRbac,
): Promise<ChartIdentity> {
  const helm = buildHelm(await findHelm());
  const release = `lockstep-${operatorNamespace}`;
  const values = {
    fullnameOverride: release,
    watchNamespaces,
    rbac: { namespacedOnly: mode === 'chart-namespaced' },
    filesDelivery: { enabled: false },
    metrics: { auth: 'none' },
    crds: { install: false },
  };
  const manifests = parseManifests(await helm.template(operatorNamespace, stringify(values)));
  const rbac = manifests.filter((m) => RBAC_KINDS.has(m.kind));
  await kubectl(adminKubeconfig, ['apply', '-f', '-'], rbac.map((m) => stringify(m)).join('---\n'));
  const clusterScoped = rbac.filter((m) => m.kind.startsWith('Cluster')).map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`);

  const deployment = manifests.find((m) => m.kind === 'Deployment') as { spec: { template: { spec: { containers: { args: string[] }[] } } } } | undefined;
  const args = (deployment?.spec.template.spec.containers[0]?.args ?? []).filter((a) => SHAPING_FLAGS.some((f) => a.startsWith(f)));
  const account = rbac.find((m) => m.kind === 'ServiceAccount')?.metadata.name ?? release;
  const token = (await kubectl(adminKubeconfig, ['create', 'token', account, '-n', operatorNamespace, '--duration=6h'])).trim();

  const admin = parse(await readFile(adminKubeconfig, 'utf8')) as Kubeconfig;
  const clusterName = admin.contexts.find((c) => c.name === admin['current-context'])?.context.cluster;
  const cluster = admin.clusters.find((c) => c.name === clusterName);
  if (!cluster) throw new Error(`${adminKubeconfig}: no cluster for context ${admin['current-context']}`);
  const kubeconfigPath = join(await mkdtemp(join(tmpdir(), 'lockstep-chart-sa-')), 'kubeconfig');
  await writeFile(kubeconfigPath, stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [cluster],
    users: [{ name: account, user: { token } }],
    contexts: [{ name: account, context: { cluster: cluster.name, user: account } }],
    'current-context': account,
  }), { mode: 0o600 });
  return {
    kubeconfigPath,
    args,
    async remove() {
      if (clusterScoped.length > 0) await kubectl(adminKubeconfig, ['delete', '--ignore-not-found', '--wait=false', ...clusterScoped]);
    },
  };
}
