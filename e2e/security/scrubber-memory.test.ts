// The scrubber's memory is bounded (#10 point 5): the values an ExternalSecret fetched are forgotten
// when it is deleted (lockstep_scrubber_values falls back), while the values of the ExternalSecrets
// that remain are still scrubbed from everything the operator prints.
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, externalSecret, getJson, readyOf, secretStore } from '../support/resources.js';

let cluster: TestCluster;
let op: RunningOperator;
let ns: string;
const COUNT = 30;
const value = (i: number) => `scrubber-memory-value-${i}-${'v'.repeat(24)}`;

const remembered = async () => Number(/^lockstep_scrubber_values (\d+)/m.exec(await op.metrics())?.[1] ?? NaN);

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('scrubber');
  await prepareCluster(cluster.kubeconfigPath, ns);
  const data = Array.from({ length: COUNT }, (_, i) => ({ key: `k${i}`, value: value(i) }));
  await apply(cluster, secretStore(ns, 'fake', [...data, { key: 'kept', value: 'scrubber-memory-kept-value-0123456789' }]));
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: ns, namespace: ns });
}, 120_000);

afterAll(async () => {
  await op?.stop();
  await cluster.deleteNamespace(ns);
});

describe('scrubber memory', () => {
  it('forgets the values of deleted ExternalSecrets and keeps scrubbing the rest', async () => {
    const es = (name: string, key: string) => externalSecret(ns, name, { secretStoreRef: { name: 'fake' }, data: [{ secretKey: 'v', remoteRef: { key } }] });
    await apply(cluster, es('kept', 'kept'));
    await eventually(async () => readyOf(await getJson(cluster, 'externalsecret', ns, 'kept'))?.status === 'True', 30_000, 'kept Ready');
    const baseline = await remembered();
    for (let i = 0; i < COUNT; i++) await apply(cluster, es(`gone-${i}`, `k${i}`));
    await eventually(async () => {
      const ready = await Promise.all(Array.from({ length: COUNT }, async (_, i) => readyOf(await getJson(cluster, 'externalsecret', ns, `gone-${i}`))?.status));
      return ready.every((s) => s === 'True');
    }, 60_000, 'every ExternalSecret Ready');
    const grown = await remembered();
    expect(grown - baseline).toBeGreaterThanOrEqual(COUNT * 2); // raw and base64 (and base64 without padding) of each
    await cluster.kubectl(['delete', 'externalsecret', '-n', ns, ...Array.from({ length: COUNT }, (_, i) => `gone-${i}`)]);
    const after = await eventually(async () => {
      const n = await remembered();
      return n <= baseline ? n : undefined;
    }, 30_000, 'the scrubber to forget the deleted ExternalSecrets\' values');
    expect(after).toBeLessThanOrEqual(baseline);
    // Nothing the operator printed holds a value.
    expect(findLeaks(op.output(), ['scrubber-memory-kept-value-0123456789', ...Array.from({ length: COUNT }, (_, i) => value(i))])).toEqual([]);
  });
});
