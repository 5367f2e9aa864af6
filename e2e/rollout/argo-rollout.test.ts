// Argo Rollouts are restarted through `spec.restartAt`. The real Argo controller is not needed to
// prove that: a CRD carrying the Rollout fields we read and write stands in for it. The CRD stays
// installed: an operator another test file starts while it is being deleted could wait forever
// for its first list of Rollouts.
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, externalSecret, getJson, readyOf, secretStore } from '../support/resources.js';

const ROLLOUT_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'rollouts.argoproj.io' },
  spec: {
    group: 'argoproj.io',
    names: { kind: 'Rollout', plural: 'rollouts', singular: 'rollout', listKind: 'RolloutList' },
    scope: 'Namespaced',
    versions: [{
      name: 'v1alpha1', served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { type: 'object', properties: {
        spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { restartAt: { type: 'string', format: 'date-time' } } },
        status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      } } },
    }],
  },
};

let cluster: TestCluster;
let op: RunningOperator;
let ns: string;
let opNs: string;

beforeAll(async () => {
  cluster = loadTestCluster();
  await cluster.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(ROLLOUT_CRD));
  await cluster.kubectl(['wait', '--for=condition=Established', 'crd/rollouts.argoproj.io', '--timeout=60s']);
  ns = await cluster.createNamespace('argo');
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns, extraArgs: ['--rollout-window', '0s', '--rollout-min-interval', '0s'] });
});

afterAll(async () => {
  await op?.stop();
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
});

it('sets spec.restartAt on a Rollout that consumes a rotated Secret, and only then', async () => {
  await apply(cluster, secretStore(ns, 'st', [{ key: 'k', value: 'argo-e2e-1' }], '1s'));
  await apply(cluster, externalSecret(ns, 'api', { secretStoreRef: { name: 'st' }, data: [{ secretKey: 'token', remoteRef: { key: 'k' } }] }));
  await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', ns, 'api'))?.status === 'True', 30_000, 'api Ready');
  await apply(cluster, JSON.stringify({
    apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout',
    metadata: { name: 'web', namespace: ns, annotations: { 'lockstep.dev/restart-on': 'auto' } },
    spec: { replicas: 0, template: { spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1', env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } }] }] } } },
  }));
  const restartAt = async () => (await cluster.kubectl(['get', 'rollout', 'web', '-n', ns, '-o', 'jsonpath={.spec.restartAt}'])).trim();
  await new Promise((r) => setTimeout(r, 3000));
  expect(await restartAt()).toBe('');

  await apply(cluster, secretStore(ns, 'st', [{ key: 'k', value: 'argo-e2e-2' }], '1s'));
  const at = await eventually(async () => (await restartAt()) || undefined, 30_000, 'spec.restartAt');
  expect(Date.parse(at)).toBeGreaterThan(Date.now() - 60_000);
  const annotations = JSON.parse(await cluster.kubectl(['get', 'rollout', 'web', '-n', ns, '-o', 'jsonpath={.metadata.annotations}'])) as Record<string, string>;
  expect(annotations['lockstep.dev/restarted-for']).toBeDefined();
});
