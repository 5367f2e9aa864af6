// Lockstep installed the way users install it: `helm install` of charts/lockstep with the image
// `make image` built, running as two pods on the harness's real node with the chart's own RBAC
// and in-cluster config; an app Deployment reads the synced Secret from inside its pods, and
// rotations, a killed leader, `helm upgrade` and `helm uninstall` are seen from there.
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { BUSYBOX_IMAGE, CHART, exec, helm, isReady, pods, requireNode, type PodJson } from '../support/node-pods.js';
import { getWorkload, replicaSets } from '../rollout/workloads.js';

const RELEASE = 'lockstep';
const OPERATOR_NS = 'lockstep-pods';
const OPERATOR_PODS = 'app.kubernetes.io/name=lockstep';
const KUSTOMIZE = fileURLToPath(new URL('../../config/default', import.meta.url));
const CRDS = ['externalsecrets.lockstep.dev', 'secretstores.lockstep.dev', 'clustersecretstores.lockstep.dev'];

let cluster: TestCluster;
let ns: string;

function store(password: string): string {
  return JSON.stringify({
    apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'vault', namespace: ns },
    spec: { provider: { fake: { data: [{ key: 'db/creds', value: JSON.stringify({ password }) }] } } },
  });
}

const externalSecret = (): string => JSON.stringify({
  apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', metadata: { name: 'db', namespace: ns },
  spec: {
    secretStoreRef: { name: 'vault' }, refreshInterval: '1h', target: { name: 'db-credentials' },
    data: [{ secretKey: 'password', remoteRef: { key: 'db/creds', property: 'password' } }],
  },
});

/** Reads the password from env and from the mounted file, inside the container, and prints it. */
const app = (): string => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'billing', namespace: ns, annotations: { 'lockstep.dev/restart-on': 'auto' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'billing' } },
    template: {
      metadata: { labels: { app: 'billing' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{
          name: 'app', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never',
          command: ['sh', '-c', 'echo "started with $(cat /etc/db/password)"; exec sleep 100000'],
          env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } } }],
          volumeMounts: [{ name: 'db', mountPath: '/etc/db', readOnly: true }],
        }],
        volumes: [{ name: 'db', secret: { secretName: 'db-credentials' } }],
      },
    },
  },
});

/** The password as the running app pods see it: one entry per Ready pod, `env|file`. */
async function valuesInsideApp(): Promise<string[]> {
  const running = (await pods(cluster, ns, 'app=billing')).filter(isReady);
  return Promise.all(running.map(async (p) =>
    (await exec(cluster, ns, p.metadata.name, ['sh', '-c', 'printf "%s|%s" "$DB_PASSWORD" "$(cat /etc/db/password)"'])).trim()));
}

/** Waits until every app pod there is (none terminating) is Ready and sees `password`. */
async function appSees(password: string, timeoutMs = 90_000): Promise<void> {
  await eventually(async () => {
    const all = await pods(cluster, ns, 'app=billing');
    if (all.length !== 1 || !all.every(isReady)) return false;
    const seen = await valuesInsideApp();
    return seen.length === 1 && seen[0] === `${password}|${password}`;
  }, timeoutMs, `the app pod to read '${password}' from env and file`);
}

async function leaseHolder(): Promise<string> {
  return (await cluster.kubectl(['get', 'lease', 'lockstep-controller', '-n', OPERATOR_NS, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
}

async function operatorPods(): Promise<PodJson[]> {
  return pods(cluster, OPERATOR_NS, OPERATOR_PODS);
}

beforeAll(async () => {
  cluster = loadTestCluster();
  await requireNode(cluster);
  ns = await cluster.createNamespace('pods');
  // global-setup applied the CRDs with kubectl; a Helm release adopts them as a user would.
  for (const crd of CRDS) {
    await cluster.kubectl(['annotate', 'crd', crd, `meta.helm.sh/release-name=${RELEASE}`, `meta.helm.sh/release-namespace=${OPERATOR_NS}`, '--overwrite']);
    await cluster.kubectl(['label', 'crd', crd, 'app.kubernetes.io/managed-by=Helm', '--overwrite']);
  }
});

afterAll(async () => {
  await helm(cluster, ['uninstall', RELEASE, '-n', OPERATOR_NS, '--ignore-not-found', '--wait']).catch(() => undefined);
  await cluster.kubectl(['delete', 'deployment', '-n', 'lockstep-system', 'lockstep-controller', '--ignore-not-found']).catch(() => undefined);
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(OPERATOR_NS);
});

describe('installed with Helm, on a real node', () => {
  test('helm install: both operator pods Ready, one leads, an ExternalSecret syncs', async () => {
    const started = Date.now();
    await helm(cluster, ['install', RELEASE, CHART, '-n', OPERATOR_NS, '--create-namespace',
      '--set', 'image.pullPolicy=Never', '--set', 'controller.rollouts.minInterval=5s', '--wait', '--timeout', '180s']);
    const installed = Date.now();
    await cluster.kubectl(['apply', '-f', '-'], store('pw-1'));
    await cluster.kubectl(['apply', '-f', '-'], externalSecret());
    await cluster.kubectl(['wait', '-n', ns, '--for=condition=Ready', 'externalsecret/db', '--timeout=120s']);
    console.log(`helm install --wait: ${installed - started} ms; install to first synced ExternalSecret: ${Date.now() - started} ms`);

    const running = await operatorPods();
    expect(running).toHaveLength(2);
    expect(running.every(isReady)).toBe(true);
    expect(running.every((p) => p.status.podIP?.startsWith('10.244.0.'))).toBe(true);   // the pod network
    const holder = await eventually(async () => (await leaseHolder()) || undefined, 30_000, 'a leader');
    expect(running.map((p) => p.metadata.name)).toContain(holder);
    // It runs as the chart's ServiceAccount, with nothing but the chart's RBAC.
    const sa = await cluster.kubectl(['get', 'pods', '-n', OPERATOR_NS, '-l', OPERATOR_PODS, '-o', 'jsonpath={.items[*].spec.serviceAccountName}']);
    expect(sa.split(' ')).toEqual(['lockstep-controller', 'lockstep-controller']);
    // Delivery as files is on by default: with only the chart's RBAC the replicas made the webhook's
    // certificate and put its CA into the chart's MutatingWebhookConfiguration.
    const caBundle = await cluster.kubectl(['get', 'mutatingwebhookconfiguration', 'lockstep-controller', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}']);
    const tls = JSON.parse(await cluster.kubectl(['get', 'secret', '-n', OPERATOR_NS, 'lockstep-controller-webhook-tls', '-o', 'json'])) as { data: Record<string, string> };
    expect(Buffer.from(caBundle, 'base64').toString()).toBe(Buffer.from(tls.data['ca.crt'] ?? '', 'base64').toString());
    expect(Buffer.from(caBundle, 'base64').toString()).toContain('BEGIN CERTIFICATE');
  });

  test('an app reads the value inside its pod; a rotation rolls it exactly once and the old pod goes', async () => {
    await cluster.kubectl(['apply', '-f', '-'], app());
    await cluster.kubectl(['rollout', 'status', '-n', ns, 'deployment/billing', '--timeout=120s']);
    await appSees('pw-1');
    const [before] = (await pods(cluster, ns, 'app=billing')).map((p) => p.metadata.name);
    const generation = (await getWorkload(cluster, 'deployment', ns, 'billing')).metadata.generation;
    expect(await replicaSets(cluster, ns, 'billing')).toBe(1);

    await cluster.kubectl(['apply', '-f', '-'], store('pw-2'));
    await appSees('pw-2');
    const after = (await pods(cluster, ns, 'app=billing')).map((p) => p.metadata.name);
    expect(after).not.toContain(before);
    const logs = await cluster.kubectl(['logs', '-n', ns, `pod/${after[0] ?? ''}`]);
    expect(logs).toContain('started with pw-2');
    // Exactly one rollout: one more generation and one more ReplicaSet, also a while later.
    await new Promise((r) => setTimeout(r, 6000));
    expect((await getWorkload(cluster, 'deployment', ns, 'billing')).metadata.generation).toBe(generation + 1);
    expect(await replicaSets(cluster, ns, 'billing')).toBe(2);
  });

  test('the leader is killed: the other pod takes over and a change made meanwhile reaches the app', async () => {
    const leader = await leaseHolder();
    await cluster.kubectl(['delete', 'pod', '-n', OPERATOR_NS, leader, '--grace-period=0', '--force']);
    await cluster.kubectl(['apply', '-f', '-'], store('pw-3'));
    await appSees('pw-3', 120_000);
    const next = await leaseHolder();
    expect(next).not.toBe(leader);
    expect((await operatorPods()).map((p) => p.metadata.name)).toContain(next);
  });

  test('helm upgrade with changed values rolls the operator without a missed sync', async () => {
    const oldPods = (await operatorPods()).map((p) => p.metadata.name);
    const upgrade = helm(cluster, ['upgrade', RELEASE, CHART, '-n', OPERATOR_NS, '--reuse-values',
      '--set', 'controller.logLevel=debug', '--wait', '--timeout', '180s']);
    await cluster.kubectl(['apply', '-f', '-'], store('pw-4'));
    await upgrade;
    await appSees('pw-4', 120_000);
    const now = await operatorPods();
    expect(now.filter(isReady)).toHaveLength(2);
    expect(now.map((p) => p.metadata.name).filter((n) => oldPods.includes(n))).toEqual([]);
    const args = await cluster.kubectl(['get', 'deployment', '-n', OPERATOR_NS, '-l', OPERATOR_PODS, '-o', 'jsonpath={.items[0].spec.template.spec.containers[0].args}']);
    expect(args).toContain('--log-level=debug');
  });

  test('values that break the schema are refused by helm install, with the field named', async () => {
    const file = join(tmpdir(), `lockstep-bad-values-${process.pid}.yaml`);
    await writeFile(file, 'replicaCount: two\ncontroller:\n  logLevel: loud\n');
    const refused = helm(cluster, ['install', 'bad', CHART, '-n', OPERATOR_NS, '-f', file, '--dry-run=server']);
    await expect(refused).rejects.toThrow(/replicaCount/);
    await expect(refused).rejects.toThrow(/logLevel/);
  });

  test('helm uninstall leaves the CRDs and the users\' Secrets', async () => {
    await helm(cluster, ['uninstall', RELEASE, '-n', OPERATOR_NS, '--wait']);
    await eventually(async () => (await operatorPods()).length === 0, 60_000, 'the operator pods to go');
    for (const crd of CRDS) expect(await cluster.kubectl(['get', 'crd', crd, '-o', 'name'])).toContain(crd);
    const data = await cluster.kubectl(['get', 'secret', '-n', ns, 'db-credentials', '-o', 'jsonpath={.data.password}']);
    expect(Buffer.from(data, 'base64').toString()).toBe('pw-4');
    expect(await cluster.kubectl(['get', 'externalsecret', '-n', ns, 'db', '-o', 'name'])).toContain('db');
  });

  test('kustomize (config/default) installs the same operator: it runs and syncs', async () => {
    const manifests = await cluster.kubectl(['kustomize', KUSTOMIZE]);
    await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], manifests);
    await cluster.kubectl(['rollout', 'status', '-n', 'lockstep-system', 'deployment/lockstep-controller', '--timeout=120s']);
    await cluster.kubectl(['apply', '-f', '-'], store('pw-5'));
    await appSees('pw-5', 120_000);
    // Remove what it installed but the CRDs (shared with every other test) and the namespace.
    const installed = parseAllDocuments(manifests).map((d) => d.toJS() as { kind?: string })
      .filter((o) => o.kind !== undefined && o.kind !== 'CustomResourceDefinition' && o.kind !== 'Namespace');
    await cluster.kubectl(['delete', '--wait=true', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: installed }));
  });

  test('watchNamespaces: the operator syncs in the listed namespaces with only their Roles, and nowhere else', async () => {
    const other = await cluster.createNamespace('pods-b');
    const outside = await cluster.createNamespace('pods-out');
    try {
      await helm(cluster, ['install', RELEASE, CHART, '-n', OPERATOR_NS, '--set', 'image.pullPolicy=Never', '--set', 'crds.install=false',
        '--set', `watchNamespaces={${ns},${other}}`, '--wait', '--timeout', '180s']);
      const inOther = (namespace: string, name: string) => [
        store('pw-6').replace(`"namespace":"${ns}"`, `"namespace":"${namespace}"`),
        externalSecret().replace(`"namespace":"${ns}"`, `"namespace":"${namespace}"`).replace('"name":"db"', `"name":"${name}"`),
      ];
      for (const doc of [...inOther(other, 'db-b'), ...inOther(outside, 'db-out')]) await cluster.kubectl(['apply', '-f', '-'], doc);
      await cluster.kubectl(['apply', '-f', '-'], store('pw-6'));
      await appSees('pw-6', 120_000);   // the first namespace, with its rollout
      await cluster.kubectl(['wait', '-n', other, '--for=condition=Ready', 'externalsecret/db-b', '--timeout=120s']);
      // Not watched: never reconciled, so no status and no Secret.
      await new Promise((r) => setTimeout(r, 3000));
      expect(await cluster.kubectl(['get', 'externalsecret', '-n', outside, 'db-out', '-o', 'jsonpath={.status}'])).toBe('');
      await expect(cluster.kubectl(['get', 'secret', '-n', outside, 'db-credentials'])).rejects.toThrow(/NotFound/);
      const roles = await cluster.kubectl(['get', 'roles', '-A', '-l', 'app.kubernetes.io/instance=lockstep', '-o', 'jsonpath={.items[*].metadata.namespace}']);
      expect(roles.split(' ')).toEqual(expect.arrayContaining([ns, other, OPERATOR_NS]));
      expect(roles.split(' ')).not.toContain(outside);
    } finally {
      await helm(cluster, ['uninstall', RELEASE, '-n', OPERATOR_NS, '--wait']).catch(() => undefined);
      await cluster.deleteNamespace(other);
      await cluster.deleteNamespace(outside);
    }
  });
});
