// Dangerous answers from a provider or the cluster: a find that suddenly matches nothing, remote
// keys that disappear, a store deleted while its ExternalSecrets exist. Nothing may be deleted or
// blanked unless the ExternalSecret's deletionPolicy says so. Every Secret event in the namespace
// is watched for the whole file, so a blanking or a deletion in between polls is caught too.
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf, secretStore, type FakeEntry } from '../support/resources.js';
import { watchSecrets, type SecretWatch } from '../support/secret-watch.js';

let cluster: TestCluster;
let ns: string;
let opNs: string;
let op: RunningOperator;
let watch: SecretWatch;

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('danger');
  opNs = await cluster.createNamespace('danger-ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  watch = watchSecrets(cluster.kubeconfigPath, ns);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
});

afterAll(async () => {
  watch.stop();
  await op.stop();
  await cluster.deleteNamespace(ns);
  await cluster.deleteNamespace(opNs);
});

const store = (name: string, data: FakeEntry[]) => apply(cluster, secretStore(ns, name, data, '1s'));
const es = (name: string, spec: Record<string, unknown>) => apply(cluster, externalSecret(ns, name, { refreshInterval: '1s', ...spec }));
const get = (kind: string, name: string) => getJson(cluster, kind, ns, name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitReady(name: string, status = 'True', reason?: string) {
  return eventually(async () => {
    const c = readyOf(await get('externalsecret', name));
    return c?.status === status && (reason === undefined || c.reason === reason) ? c : undefined;
  }, 30_000, `${name} Ready=${status}${reason ? ` (${reason})` : ''}`);
}

/** Deletions and writes that left no data, for the named Secret, over the whole file. */
const harmTo = (name: string) => watch.harm(name);

const POLICIES = [
  { policy: 'Retain', target: {} },
  { policy: 'Delete', target: { deletionPolicy: 'Delete' } },
  { policy: 'Merge', target: { creationPolicy: 'Merge', deletionPolicy: 'Merge' } },
] as const;

async function prepareTarget(name: string, policy: string): Promise<void> {
  if (policy === 'Merge') await cluster.kubectl(['create', 'secret', 'generic', name, '-n', ns, '--from-literal=theirs=kept-danger-value']);
}

describe('a find that suddenly matches nothing', () => {
  const matching = [{ key: 'app/one', value: 'find-danger-1' }, { key: 'app/two', value: 'find-danger-2' }];
  const spec = (target: object) => ({
    secretStoreRef: { name: 'finds' }, target,
    dataFrom: [{ find: { name: { regexp: '^app/' } }, rewrite: [{ regexp: { source: '^app/', target: '' } }] }],
  });

  it.each(POLICIES)('deletionPolicy $policy', async ({ policy, target }) => {
    const name = `find-${policy.toLowerCase()}`;
    await store('finds', matching);
    await prepareTarget(name, policy);
    await es(name, spec(target));
    await waitReady(name);
    const before = await get('secret', name);

    await store('finds', [{ key: 'other/x', value: 'unrelated-danger' }]);
    if (policy === 'Retain') {
      const c = await waitReady(name, 'False', 'RemoteSecretNotFound');
      expect(c.message).toContain('matched no remote secret');
      await sleep(3000);   // several refreshes
      const after = await get('secret', name);
      expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
      expect(harmTo(name)).toEqual([]);
    } else if (policy === 'Delete') {
      await waitReady(name, 'False', 'SecretDeleted');
      expect(await get('secret', name)).toBeUndefined();
    } else {
      await waitReady(name, 'False', 'SecretDeleted');
      expect(decodeData(await get('secret', name))).toEqual({ theirs: 'kept-danger-value' });
      expect(watch.events.filter((e) => e.name === name && e.type === 'DELETED')).toEqual([]);
    }
    // The matches come back: synced again (recreated for Delete).
    await store('finds', matching);
    await waitReady(name);
    expect(decodeData(await get('secret', name))).toMatchObject({ one: 'find-danger-1', two: 'find-danger-2' });
  });
});

describe('one of several remote keys disappears', () => {
  it.each(POLICIES)('deletionPolicy $policy', async ({ policy, target }) => {
    const name = `partial-${policy.toLowerCase()}`;
    const storeName = `partial-${policy.toLowerCase()}`;
    await store(storeName, [{ key: 'a', value: 'partial-danger-a' }, { key: 'b', value: 'partial-danger-b' }]);
    await prepareTarget(name, policy);
    await es(name, { secretStoreRef: { name: storeName }, target, data: [
      { secretKey: 'a', remoteRef: { key: 'a' } }, { secretKey: 'b', remoteRef: { key: 'b' } },
    ] });
    await waitReady(name);
    const before = await get('secret', name);

    await store(storeName, [{ key: 'a', value: 'partial-danger-a' }]);
    if (policy === 'Retain') {
      await waitReady(name, 'False', 'RemoteSecretNotFound');
      await sleep(3000);
      expect((await get('secret', name))?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    } else {
      // Delete and Merge drop the key that is gone and keep the rest.
      await eventually(async () => !('b' in decodeData(await get('secret', name))), 30_000, 'key b dropped');
      const left = decodeData(await get('secret', name));
      expect(left).toMatchObject({ a: 'partial-danger-a', ...(policy === 'Merge' ? { theirs: 'kept-danger-value' } : {}) });
    }
    expect(harmTo(name)).toEqual([]);
  });
});

describe('a store deleted while its ExternalSecrets exist', () => {
  it.each(POLICIES)('deletionPolicy $policy: the Secret stays as it was', async ({ policy, target }) => {
    const name = `orphan-${policy.toLowerCase()}`;
    const storeName = `doomed-${policy.toLowerCase()}`;
    await store(storeName, [{ key: 'k', value: `orphan-danger-${policy}` }]);
    await prepareTarget(name, policy);
    await es(name, { secretStoreRef: { name: storeName }, target, data: [{ secretKey: 'k', remoteRef: { key: 'k' } }] });
    await waitReady(name);
    const before = await get('secret', name);

    await cluster.kubectl(['delete', 'secretstore', storeName, '-n', ns]);
    const c = await waitReady(name, 'False', 'StoreNotFound');
    expect(c.message).toContain(`SecretStore '${storeName}'`);
    await sleep(3000);
    expect((await get('secret', name))?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(harmTo(name)).toEqual([]);

    await store(storeName, [{ key: 'k', value: `orphan-danger-${policy}` }]);
    await waitReady(name);
  });

  it('a ClusterSecretStore deleted: the Secrets of every namespace using it stay', async () => {
    const css = `doomed-${ns}`;
    const manifest = (v: string) => JSON.stringify({ apiVersion: 'lockstep.dev/v1alpha1', kind: 'ClusterSecretStore', metadata: { name: css },
      spec: { provider: { fake: { data: [{ key: 'k', value: v }] } } } });
    await apply(cluster, manifest('cluster-danger-1'));
    await es('cluster-orphan', { secretStoreRef: { kind: 'ClusterSecretStore', name: css }, target: { deletionPolicy: 'Delete' },
      data: [{ secretKey: 'k', remoteRef: { key: 'k' } }] });
    await waitReady('cluster-orphan');
    const before = await get('secret', 'cluster-orphan');
    await cluster.kubectl(['delete', 'clustersecretstore', css]);
    await waitReady('cluster-orphan', 'False', 'StoreNotFound');
    await sleep(3000);
    expect((await get('secret', 'cluster-orphan'))?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(harmTo('cluster-orphan')).toEqual([]);
  });
});

describe('the watch saw everything', () => {
  it('recorded the Secret events of this file (the checks above are not vacuous)', () => {
    expect(watch.events.filter((e) => e.type === 'ADDED').length).toBeGreaterThan(5);
    expect(watch.events.some((e) => e.type === 'DELETED' && e.name === 'find-delete')).toBe(true);
  });
});
