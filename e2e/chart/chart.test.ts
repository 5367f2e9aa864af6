// The Helm chart (charts/lockstep): lint, values schema, and every rendering accepted by a real
// kube-apiserver (server-side dry run). It must install the same RBAC and CRDs as config/ and crds/.
// The ServiceMonitor and PrometheusRule kinds are dry-run against minimal stand-in CRDs of
// monitoring.coreos.com that this test installs (and removes), since the cluster has no Prometheus Operator.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster } from '../support/operator.js';
import {
  buildHelm, CHART, computePermissions, findHelm, findManifest, parseManifests, ROOT, run,
  type Helm, type Manifest, type PolicyRule,
} from './helm-cli.js';

const MONITORING_KINDS = [
  { kind: 'ServiceMonitor', plural: 'servicemonitors' },
  { kind: 'PrometheusRule', plural: 'prometheusrules' },
];

let cluster: TestCluster;
let helm: Helm;
let releaseNs: string;
let watchNss: string[];

/** A stand-in for a Prometheus Operator CRD: right group, kind and scope, any spec. */
function standInCrd(kind: string, plural: string): string {
  return stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com`, labels: { 'lockstep.dev/e2e': 'chart-stand-in' } },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind, plural, listKind: `${kind}List`, singular: kind.toLowerCase() },
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      }],
    },
  });
}

const allFeatures = () => ({
  metrics: {
    serviceMonitor: { enabled: true, labels: { release: 'prometheus' }, interval: '15s' },
    prometheusRule: { enabled: true, labels: { release: 'prometheus' } },
    grafanaDashboard: { enabled: true },
  },
  extraEnv: [{ name: 'AWS_EC2_METADATA_DISABLED', value: 'true' }],
  controller: { logLevel: 'debug', workers: 20, extraArgs: ['--identity=$(POD_NAME)'] },
  podAnnotations: { 'example.com/team': 'platform' },
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
  priorityClassName: 'lockstep-critical',
});

async function dryRunServer(yaml: string): Promise<string> {
  return cluster.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=lockstep-chart-e2e', '--dry-run=server', '-f', '-'], yaml);
}

const roleYaml = (file: string) => parse(readFileSync(join(ROOT, 'config/rbac', file), 'utf8')) as { rules: PolicyRule[] };
const rulesOf = (m: Manifest) => m['rules'] as PolicyRule[];
const named = (manifests: Manifest[], kind: string, name: string, namespace?: string) =>
  manifests.filter((m) => m.kind === kind && m.metadata.name === name && m.metadata.namespace === namespace);
const EVENTS_RULE: PolicyRule = { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] };
/** What the ClusterRole keeps with watchNamespaces: the cluster-scoped rest of config/rbac/role.yaml. */
const CLUSTER_SCOPED_RULES: PolicyRule[] = [
  { apiGroups: ['lockstep.dev'], resources: ['clustersecretstores'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['lockstep.dev'], resources: ['clustersecretstores/status'], verbs: ['get', 'patch'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], resourceNames: ['rollouts.argoproj.io'], verbs: ['get'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

beforeAll(async () => {
  cluster = loadTestCluster();
  await prepareCluster(cluster.kubeconfigPath, 'lockstep-system');
  helm = buildHelm(await findHelm());
  releaseNs = await cluster.createNamespace('chart');
  watchNss = [await cluster.createNamespace('team-a'), await cluster.createNamespace('team-b')];
  for (const { kind, plural } of MONITORING_KINDS) await cluster.kubectl(['apply', '-f', '-'], standInCrd(kind, plural));
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...MONITORING_KINDS.map((k) => `crd/${k.plural}.monitoring.coreos.com`)]);
}, 600_000);

afterAll(async () => {
  await cluster.deleteNamespace(releaseNs);
  for (const ns of watchNss) await cluster.deleteNamespace(ns);
  await cluster.kubectl(['delete', 'crd', '-l', 'lockstep.dev/e2e=chart-stand-in', '--wait=false', '--ignore-not-found']);
});

describe('helm chart', () => {
  it('passes helm lint --strict, with the defaults and with every feature on', async () => {
    for (const values of [undefined, stringify(allFeatures()), stringify({ watchNamespaces: ['team-a', 'team-b'] })]) {
      const args = ['lint', CHART, '--strict', ...(values ? ['--values', '-'] : [])];
      const result = await helm.run(args, values);
      expect({ code: result.code, out: result.stdout + result.stderr }).toEqual({ code: 0, out: expect.stringContaining('0 chart(s) failed') });
      expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it.each([
    ['the defaults', () => ({})],
    ['two watchNamespaces', () => ({ watchNamespaces: watchNss })],
    ['every optional feature', allFeatures],
  ])('renders %s into manifests the apiserver accepts (server-side dry run)', async (_what, values) => {
    const yaml = await helm.template(releaseNs, stringify(values()));
    const out = await dryRunServer(yaml);
    expect(out).toContain('deployment.apps/lockstep-controller serverside-applied (server dry run)');
  });

  it('renders what each setting asks for', async () => {
    const plain = parseManifests(await helm.template(releaseNs));
    // Delivery as files is on by default: its ClusterRole and binding, the webhook's Service and configuration.
    // Two Roles: the Lease's, and the control plane's members in default.
    expect(plain.map((m) => m.kind).sort()).toEqual([
      'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition',
      'Deployment', 'MutatingWebhookConfiguration', 'PodDisruptionBudget', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'Service', 'ServiceAccount',
    ]);
    const webhook = findManifest(plain, 'MutatingWebhookConfiguration') as Manifest & { webhooks: { objectSelector: unknown; clientConfig: { service: { name: string } } }[] };
    expect(webhook.webhooks[0]?.objectSelector).toEqual({ matchLabels: { 'lockstep.dev/inject': 'true' } });
    expect(webhook.webhooks[0]?.clientConfig.service.name).toBe('lockstep-controller-webhook');
    const filesRole = plain.find((m) => m.kind === 'ClusterRole' && m.metadata.name === 'lockstep-controller-files');
    if (!filesRole) throw new Error('no ClusterRole lockstep-controller-files rendered');
    expect(rulesOf(filesRole)).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], resourceNames: ['lockstep-controller'], verbs: ['get', 'patch'] },
    ]);
    const off = parseManifests(await helm.template(releaseNs, stringify({ filesDelivery: { enabled: false } })));
    expect(off.map((m) => m.kind)).not.toContain('MutatingWebhookConfiguration');
    expect(off.filter((m) => m.kind === 'ClusterRole')).toHaveLength(1);
    const all = parseManifests(await helm.template(releaseNs, stringify(allFeatures())));
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap']) expect(findManifest(all, kind).metadata.namespace).toBe(releaseNs);
    const rule = findManifest(all, 'PrometheusRule') as Manifest & { spec: { groups: { rules: { alert: string; expr: string }[] }[] } };
    expect(rule.spec.groups[0]?.rules.map((r) => r.alert)).toEqual([
      'LockstepDown', 'LockstepSyncErrors', 'LockstepSecretsStale', 'LockstepRolloutFailures', 'LockstepRestartsThrottled', 'LockstepProviderErrors',
    ]);
    const dashboard = findManifest(all, 'ConfigMap') as Manifest & { data: Record<string, string> };
    expect(dashboard.metadata.labels?.['grafana_dashboard']).toBe('1');
    expect(JSON.parse(dashboard.data['lockstep.json'] ?? '')).toMatchObject({ title: 'Lockstep' });

    const container = (manifests: Manifest[]) =>
      (findManifest(manifests, 'Deployment') as Manifest & { spec: { template: { spec: { containers: { args: string[]; image: string }[] } } } })
        .spec.template.spec.containers[0];
    expect(container(plain)?.args).toEqual(expect.arrayContaining(['--leader-elect', '--log-level=info', '--workers=10']));
    expect(container(plain)?.args.join(' ')).not.toContain('--namespace');
    expect(container(plain)?.image).toBe('ghcr.io/lockstep-dev/lockstep:0.1.0');
    const scoped = parseManifests(await helm.template(releaseNs, stringify({ watchNamespaces: ['team-a', 'team-b'], replicaCount: 1 })));
    expect(container(scoped)?.args).toContain('--namespace=team-a,team-b');
    expect(scoped.map((m) => m.kind)).not.toContain('PodDisruptionBudget');
    const digest = `sha256:${'a'.repeat(64)}`;
    const pinned = parseManifests(await helm.template(releaseNs, stringify({ image: { tag: '9.9.9', digest } })));
    expect(container(pinned)?.image).toBe(`ghcr.io/lockstep-dev/lockstep@${digest}`);
  });

  it.each([
    ['a string replicaCount', { replicaCount: 'two' }, /replicaCount.*(got string, want integer|string)/],
    ['an unknown top-level key', { replicas: 2 }, /additional properties 'replicas' not allowed/],
    ['an unknown log level', { controller: { logLevel: 'loud' } }, /\/controller\/logLevel.*value must be one of/],
    ['a typo inside an object', { controller: { worker: 4 } }, /\/controller.*additional properties 'worker' not allowed/],
    ['zero workers', { controller: { workers: 0 } }, /\/controller\/workers.*minimum/],
    ['an invalid namespace name', { watchNamespaces: ['team-a', 'Team_B'] }, /\/watchNamespaces\/1.*does not match pattern/],
    ['a namespace listed twice', { watchNamespaces: ['team-a', 'team-a'] }, /\/watchNamespaces.*items at 0 and 1 are equal/],
    ['one namespace as a string', { watchNamespaces: 'team-a' }, /\/watchNamespaces.*want array/],
    ['the old watchNamespace key', { watchNamespace: 'team-a' }, /additional properties 'watchNamespace' not allowed/],
    ['a bad duration', { controller: { providerTimeout: '30 seconds' } }, /\/controller\/providerTimeout/],
  ])('rejects %s with a message naming the field', async (_what, values, message) => {
    await expect(helm.template(releaseNs, stringify(values))).rejects.toThrow(message);
  });

  it('grants exactly the RBAC of config/rbac/', async () => {
    const manifests = parseManifests(await helm.template(releaseNs));
    expect(rulesOf(findManifest(manifests, 'ClusterRole'))).toEqual(roleYaml('role.yaml').rules);
    expect(rulesOf(findManifest(manifests, 'Role', releaseNs))).toEqual(roleYaml('leader_election_role.yaml').rules);
    expect(named(manifests, 'Role', 'lockstep-controller-apiserver-members', 'default').map(rulesOf)).toEqual([roleYaml('apiserver_members_role.yaml').rules]);
    expect(named(manifests, 'RoleBinding', 'lockstep-controller-apiserver-members', 'default')).toHaveLength(1);
  });

  it('with watchNamespaces, splits the same permissions into a Role in each and a cluster-scoped rest', async () => {
    const manifests = parseManifests(await helm.template(releaseNs, stringify({ watchNamespaces: ['team-a', 'team-b'] })));
    const clusterRole = computePermissions(rulesOf(findManifest(manifests, 'ClusterRole')));
    expect(clusterRole).toEqual(computePermissions(CLUSTER_SCOPED_RULES));
    const teamA = rulesOf(findManifest(manifests, 'Role', 'team-a'));
    expect(rulesOf(findManifest(manifests, 'Role', 'team-b'))).toEqual(teamA);
    for (const ns of ['team-a', 'team-b']) {
      const watchRole = computePermissions(rulesOf(findManifest(manifests, 'Role', ns)));
      expect([...clusterRole, ...watchRole].sort()).toEqual(computePermissions(roleYaml('role.yaml').rules));
      expect(findManifest(manifests, 'RoleBinding', ns)).toMatchObject({ roleRef: { kind: 'Role', name: 'lockstep-controller' } });
    }
    // Events about ClusterSecretStores (cluster-scoped) are recorded in default.
    expect(rulesOf(findManifest(manifests, 'Role', 'default'))).toEqual([EVENTS_RULE]);
    expect(findManifest(manifests, 'RoleBinding', 'default')).toMatchObject({ roleRef: { kind: 'Role', name: 'lockstep-controller-events' } });
    const own = computePermissions(rulesOf(findManifest(manifests, 'Role', releaseNs)));
    expect(own).toEqual(computePermissions([
      ...roleYaml('leader_election_role.yaml').rules,
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['lockstep-hash-key'], verbs: ['get'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      // delivery as files: the webhook's self-managed certificate
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['lockstep-controller-webhook-tls'], verbs: ['get', 'patch'] },
    ]));
    const bindings = manifests.filter((m) => m.kind === 'RoleBinding').map((m) => m.metadata.namespace);
    expect(bindings.sort()).toEqual([releaseNs, 'team-a', 'team-b', 'default', 'default'].sort());
  });

  it('with rbac.namespacedOnly, grants namespaced Roles only, and the operator asks for nothing cluster-scoped', async () => {
    const values = { watchNamespaces: watchNss, rbac: { namespacedOnly: true }, filesDelivery: { enabled: false }, metrics: { auth: 'none' } };
    const manifests = parseManifests(await helm.template(releaseNs, stringify(values)));
    const kinds = manifests.map((m) => m.kind);
    expect(kinds).not.toContain('ClusterRole');
    expect(kinds).not.toContain('ClusterRoleBinding');
    const full = computePermissions(roleYaml('role.yaml').rules);
    const clusterScoped = computePermissions(CLUSTER_SCOPED_RULES);
    for (const ns of watchNss) {
      expect(computePermissions(rulesOf(findManifest(manifests, 'Role', ns)))).toEqual(full.filter((p) => !clusterScoped.includes(p)));
    }
    expect(named(manifests, 'Role', 'lockstep-controller-events', 'default')).toEqual([]);
    const args = (findManifest(manifests, 'Deployment') as Manifest & { spec: { template: { spec: { containers: { args: string[] }[] } } } })
      .spec.template.spec.containers[0]?.args;
    expect(args).toEqual(expect.arrayContaining([`--namespace=${watchNss.join(',')}`, '--no-cluster-stores', '--argo-rollouts=never', '--metrics-auth=none']));
    const on = parseManifests(await helm.template(releaseNs, stringify({ ...values, controller: { rollouts: { argoRollouts: 'always' } } })));
    expect(JSON.stringify(findManifest(on, 'Deployment'))).toContain('--argo-rollouts=always');
    // The server accepts the rendering.
    await dryRunServer(stringify({ apiVersion: 'v1', kind: 'List', items: manifests.filter((m) => m.kind !== 'CustomResourceDefinition') }));
  });

  it.each([
    ['without watchNamespaces', { rbac: { namespacedOnly: true } }, /rbac.namespacedOnly needs watchNamespaces/],
    ['with delivery as files', { watchNamespaces: ['team-a'], rbac: { namespacedOnly: true } }, /rbac.namespacedOnly needs filesDelivery.enabled=false/],
    ['with authenticated /metrics', { watchNamespaces: ['team-a'], rbac: { namespacedOnly: true }, filesDelivery: { enabled: false } }, /rbac.namespacedOnly needs metrics.auth=none/],
  ])('refuses rbac.namespacedOnly %s, saying what to change', async (_what, values, message) => {
    await expect(helm.template(releaseNs, stringify(values))).rejects.toThrow(message);
  });

  it('with default among watchNamespaces, grants events there through its Role, without a second one', async () => {
    const manifests = parseManifests(await helm.template(releaseNs, stringify({ watchNamespaces: ['team-a', 'default'] })));
    const ids = manifests.map((m) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(named(manifests, 'Role', 'lockstep-controller-events', 'default')).toEqual([]);
    expect(named(manifests, 'RoleBinding', 'lockstep-controller-events', 'default')).toEqual([]);
    const teamA = rulesOf(findManifest(manifests, 'Role', 'team-a'));
    expect(teamA).toContainEqual(EVENTS_RULE);
    expect(named(manifests, 'Role', 'lockstep-controller', 'default').map(rulesOf)).toEqual([teamA]);
  });

  it('renders the CRDs of crds/ unchanged, kept on uninstall, and none with crds.install=false', async () => {
    const rendered = parseManifests(await helm.template(releaseNs)).filter((m) => m.kind === 'CustomResourceDefinition');
    const files = readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml'));
    const expected = files.map((f) => parse(readFileSync(join(ROOT, 'crds', f), 'utf8')) as Manifest);
    const strip = (crd: Manifest) => ({ ...crd, metadata: { ...crd.metadata, labels: undefined, annotations: undefined } });
    const byName = (a: Manifest, b: Manifest) => a.metadata.name.localeCompare(b.metadata.name);
    expect(rendered.map(strip).sort(byName)).toEqual(expected.map(strip).sort(byName));
    for (const crd of rendered) expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });

    const notKept = parseManifests(await helm.template(releaseNs, stringify({ crds: { keep: false } })));
    expect(findManifest(notKept, 'CustomResourceDefinition').metadata.annotations).toBeUndefined();
    const none = parseManifests(await helm.template(releaseNs, stringify({ crds: { install: false } })));
    expect(none.map((m) => m.kind)).not.toContain('CustomResourceDefinition');
  });

  it('keeps charts/lockstep/files/crds identical to crds/', () => {
    for (const file of readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml'))) {
      expect(readFileSync(join(CHART, 'files/crds', file), 'utf8')).toBe(readFileSync(join(ROOT, 'crds', file), 'utf8'));
    }
    expect(readdirSync(join(CHART, 'files/crds')).sort()).toEqual(readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml')).sort());
  });

  it('installs and uninstalls with helm (CRDs left to crds/, which the cluster already has)', async () => {
    const kube = ['--kubeconfig', cluster.kubeconfigPath, '--namespace', releaseNs];
    const name = `${releaseNs}-release`;
    const values = stringify({ crds: { install: false }, fullnameOverride: name, watchNamespaces: watchNss });
    const installed = await helm.run(['install', 'lockstep', CHART, ...kube, '--values', '-'], values);
    expect({ code: installed.code, stderr: installed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(installed.stdout).toContain('kubectl get lockstep -A');
    expect(installed.stdout).toContain(`watching only namespaces ${watchNss.join(', ')}.`);
    await cluster.kubectl(['get', 'deployment', `${name}-controller`, '-n', releaseNs]);
    for (const ns of watchNss) await cluster.kubectl(['get', 'rolebinding', `${name}-controller`, '-n', ns]);
    await cluster.kubectl(['get', 'rolebinding', `${name}-controller-events`, '-n', 'default']);

    const removed = await helm.run(['uninstall', 'lockstep', ...kube, '--wait']);
    expect({ code: removed.code, stderr: removed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await cluster.kubectl(['get', 'clusterrole', `${name}-controller`, '--ignore-not-found'])).toBe('');
    expect(await cluster.kubectl(['get', 'role', `${name}-controller-events`, '-n', 'default', '--ignore-not-found'])).toBe('');
  });

  it('has a values table in its README generated from the current schema and values', async () => {
    const result = await run(join(ROOT, 'node_modules/.bin/tsx'), [join(CHART, 'gen-values-table.ts'), '--check']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  });
});
