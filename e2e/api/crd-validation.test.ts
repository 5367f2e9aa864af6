// The CRDs generated from the zod schemas reject bad manifests at `kubectl apply`, with a message.
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster } from '../support/operator.js';
import { externalSecret } from '../support/resources.js';
import { stringify } from 'yaml';

let cluster: TestCluster;
let ns: string;

beforeAll(async () => {
  cluster = loadTestCluster();
  await prepareCluster(cluster.kubeconfigPath, 'lockstep-system');
  ns = await cluster.createNamespace('crd');
});
afterAll(async () => cluster.deleteNamespace(ns));

async function applyError(yaml: string): Promise<string> {
  try {
    await cluster.kubectl(['apply', '-f', '-'], yaml);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('kubectl apply accepted an invalid manifest');
}

const store = { secretStoreRef: { name: 'demo' } };
const oneKey = { data: [{ secretKey: 'password', remoteRef: { key: 'db' } }] };

describe('CRD validation at admission', () => {
  it('accepts a valid ExternalSecret unchanged (no server-side defaults)', async () => {
    await cluster.kubectl(['apply', '-f', '-'], externalSecret(ns, 'ok', { ...store, ...oneKey }));
    const spec = JSON.parse(await cluster.kubectl(['get', 'externalsecret', 'ok', '-n', ns, '-o', 'jsonpath={.spec}'])) as Record<string, unknown>;
    expect(spec).toEqual({ ...store, ...oneKey });
  });

  it.each([
    ['neither data nor dataFrom', { ...store }, 'set at least one entry in data or dataFrom'],
    ['a bad duration', { ...store, ...oneKey, refreshInterval: 'soon' }, 'spec.refreshInterval'],
    ['an unknown creationPolicy', { ...store, ...oneKey, target: { creationPolicy: 'Sometimes' } }, 'spec.target.creationPolicy'],
    ['deletionPolicy Delete with creationPolicy Merge', { ...store, ...oneKey, target: { creationPolicy: 'Merge', deletionPolicy: 'Delete' } }, 'deletionPolicy Delete requires creationPolicy Owner or Orphan'],
    ['a dataFrom entry with both extract and find', { ...store, dataFrom: [{ extract: { key: 'a' }, find: { path: 'x' } }] }, 'exactly one of extract or find'],
    ['an invalid Secret key', { ...store, data: [{ secretKey: 'bad/key', remoteRef: { key: 'db' } }] }, 'spec.data[0].secretKey'],
    ['an invalid target name', { ...store, ...oneKey, target: { name: 'Not_A_Name' } }, 'spec.target.name'],
    ['a missing store name', { secretStoreRef: {}, ...oneKey }, 'spec.secretStoreRef.name'],
  ])('rejects %s', async (_what, spec, message) => {
    expect(await applyError(externalSecret(ns, 'bad', spec))).toContain(message);
  });

  it('rejects a SecretStore with no provider or with two', async () => {
    const doc = (provider: unknown) =>
      stringify({ apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 's', namespace: ns }, spec: { provider } });
    expect(await applyError(doc({}))).toMatch(/spec.provider.*(should have at least 1 properties|must have at least 1)/i);
    expect(await applyError(doc({ fake: { data: [] }, aws: {} }))).toMatch(/spec.provider/);
  });

  it('documents the API for kubectl explain and groups the kinds in the lockstep category', async () => {
    const explained = await cluster.kubectl(['explain', 'externalsecret.spec.target']);
    expect(explained).toContain('The Kubernetes Secret that Lockstep writes');
    expect(explained).toContain('creationPolicy');
    const resources = await cluster.kubectl(['api-resources', '--categories=lockstep', '-o', 'name']);
    expect(resources.split('\n').filter(Boolean).sort()).toEqual([
      'clustersecretstores.lockstep.dev',
      'externalsecrets.lockstep.dev',
      'secretstores.lockstep.dev',
    ]);
  });
});
