// ExternalSecrets synced into Secrets by the real operator on the real control plane:
// creation and deletion policies, status reasons, refresh, restore, and no needless writes.
// The operator runs as the Helm chart's own ServiceAccount with exactly the chart's RBAC: the
// cluster-wide ClusterRole (sync.test.ts) or namespaced Roles only (sync-namespaced.test.ts).
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { findLeaks } from '../support/leaks.js';
import type { ChartRbac } from '../support/chart-rbac.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf, secretStore, type FakeEntry } from '../support/resources.js';

/** The whole sync suite, with the operator holding the chart's RBAC in the given mode. */
export function syncSuite(rbac: ChartRbac): void {
  let cluster: TestCluster;
  let op: RunningOperator;
  let ns: string;
  let opNs: string;
  /** Every value a store in this file served; none may appear in the operator's output. */
  const served: string[] = [];

  function store(name: string, data: FakeEntry[], refreshInterval?: string, namespace = ns): Promise<void> {
    served.push(...data.map((d) => d.value));
    for (const d of data) {
      try {
        for (const v of Object.values(JSON.parse(d.value) as Record<string, unknown>)) if (typeof v === 'string') served.push(v);
      } catch {
        // not JSON
      }
    }
    return apply(cluster, secretStore(namespace, name, data, refreshInterval));
  }

  const es = (name: string, spec: Record<string, unknown>) => apply(cluster, externalSecret(ns, name, spec));
  const get = (kind: string, name: string, namespace = ns) => getJson(cluster, kind, namespace, name);

  async function waitReady(name: string, status = 'True', reason?: string) {
    return eventually(async () => {
      const obj = await get('externalsecret', name);
      const ready = readyOf(obj);
      const fresh = ready?.observedGeneration === obj?.metadata.generation;
      return fresh && ready?.status === status && (!reason || ready.reason === reason) ? ready : undefined;
    }, 30_000, `ExternalSecret ${name} Ready=${status}${reason ? ` (${reason})` : ''}`);
  }

  beforeAll(async () => {
    cluster = loadTestCluster();
    ns = await cluster.createNamespace('sync');
    opNs = await cluster.createNamespace('ops');
    await prepareCluster(cluster.kubeconfigPath, opNs);
    op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns, rbac });
    await store('main', [
      { key: 'db/creds', value: '{"user":"app","password":"pw-e2e-first","nested":{"token":"tok-e2e-nested"}}' },
      { key: 'api/token', value: 'api-token-e2e-value' },
    ]);
  });

  afterAll(async () => {
    await op?.stop();
    await cluster.deleteNamespace(ns);
    await cluster.deleteNamespace(opNs);
  });

  describe('creation policies', () => {
    it('Owner: writes an owned, labelled Secret from properties and a template, and reports status', async () => {
      await es('owner', {
        secretStoreRef: { name: 'main' },
        target: { name: 'owner-secret', template: { metadata: { labels: { team: 'a' } }, data: { dsn: 'db://{{ user }}:{{ password }}@host' } } },
        data: [
          { secretKey: 'user', remoteRef: { key: 'db/creds', property: 'user' } },
          { secretKey: 'password', remoteRef: { key: 'db/creds', property: 'password' } },
          { secretKey: 'token', remoteRef: { key: 'db/creds', property: 'nested.token' } },
        ],
      });
      const ready = await waitReady('owner');
      expect(ready.reason).toBe('SecretSynced');
      const secret = await get('secret', 'owner-secret');
      expect(decodeData(secret)).toEqual({ user: 'app', password: 'pw-e2e-first', token: 'tok-e2e-nested', dsn: 'db://app:pw-e2e-first@host' });
      expect(secret?.metadata.labels).toMatchObject({ team: 'a', 'lockstep.dev/managed': 'true' });
      expect(secret?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ExternalSecret', name: 'owner', controller: true })]);
      const status = (await get('externalsecret', 'owner'))?.status;
      expect(status?.binding).toEqual({ name: 'owner-secret' });
      // A first sync is not news: no Event.
      const events = await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '--field-selector', 'regarding.name=owner', '-o', 'name']);
      expect(events.trim()).toBe('');
      expect(Date.parse(status?.refreshTime ?? '')).toBeGreaterThan(Date.now() - 60_000);
    });

    it('Owner: kube-controller-manager garbage-collects the Secret with its ExternalSecret', async () => {
      await cluster.kubectl(['delete', 'externalsecret', 'owner', '-n', ns]);
      // The garbage collector learns new kinds on its discovery resync (every 30 s), so allow for one.
      await eventually(async () => (await get('secret', 'owner-secret')) === undefined, 75_000, 'garbage collection');
    });

    it('Orphan: the Secret stays when the ExternalSecret is deleted', async () => {
      await es('orphan', { secretStoreRef: { name: 'main' }, target: { creationPolicy: 'Orphan' }, dataFrom: [{ extract: { key: 'db/creds' } }] });
      await waitReady('orphan');
      const secret = await get('secret', 'orphan');
      expect(secret?.metadata.ownerReferences).toBeUndefined();
      expect(decodeData(secret)).toMatchObject({ user: 'app', nested: '{"token":"tok-e2e-nested"}' });
      await cluster.kubectl(['delete', 'externalsecret', 'orphan', '-n', ns]);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await get('secret', 'orphan')).toBeDefined();
    });

    it('Merge: needs an existing Secret, then adds only our keys and keeps the others', async () => {
      await es('merge', { secretStoreRef: { name: 'main' }, target: { name: 'shared', creationPolicy: 'Merge' }, data: [{ secretKey: 'api', remoteRef: { key: 'api/token' } }] });
      const missing = await waitReady('merge', 'False', 'TargetSecretMissing');
      expect(missing.message).toContain("Secret 'shared' does not exist");
      await cluster.kubectl(['create', 'secret', 'generic', 'shared', '-n', ns, '--from-literal=theirs=kept-e2e-value']);
      await waitReady('merge', 'True');
      expect(decodeData(await get('secret', 'shared'))).toEqual({ theirs: 'kept-e2e-value', api: 'api-token-e2e-value' });
    });

    it('None: reads the provider but writes no Secret', async () => {
      await es('none', { secretStoreRef: { name: 'main' }, target: { creationPolicy: 'None' }, data: [{ secretKey: 'a', remoteRef: { key: 'api/token' } }] });
      const ready = await waitReady('none');
      expect(ready.message).toContain('creationPolicy None');
      expect(await get('secret', 'none')).toBeUndefined();
    });

    it('refuses to take over a Secret it does not manage', async () => {
      await cluster.kubectl(['create', 'secret', 'generic', 'taken', '-n', ns, '--from-literal=x=y']);
      await es('taken', { secretStoreRef: { name: 'main' }, data: [{ secretKey: 'a', remoteRef: { key: 'api/token' } }] });
      const ready = await waitReady('taken', 'False', 'TargetConflict');
      expect(ready.message).toContain('creationPolicy Merge');
      expect(decodeData(await get('secret', 'taken'))).toEqual({ x: 'y' });
    });
  });

  describe('deletion policies when the remote key disappears', () => {
    beforeAll(async () => {
      await store('vanishing', [{ key: 'gone/soon', value: 'vanishing-e2e-value' }, { key: 'stays', value: 'staying-e2e-value' }], '1s');
    });

    const dropRemoteKey = () => store('vanishing', [{ key: 'stays', value: 'staying-e2e-value' }], '1s');

    it('Retain keeps the Secret untouched and reports RemoteSecretNotFound; Delete deletes; Merge removes only our keys', async () => {
      await es('retain', { secretStoreRef: { name: 'vanishing' }, data: [{ secretKey: 'v', remoteRef: { key: 'gone/soon' } }] });
      await es('delete', { secretStoreRef: { name: 'vanishing' }, target: { deletionPolicy: 'Delete' }, data: [{ secretKey: 'v', remoteRef: { key: 'gone/soon' } }] });
      await cluster.kubectl(['create', 'secret', 'generic', 'merged', '-n', ns, '--from-literal=theirs=kept-e2e-value']);
      await es('merged', {
        secretStoreRef: { name: 'vanishing' },
        target: { creationPolicy: 'Merge', deletionPolicy: 'Merge' },
        data: [{ secretKey: 'v', remoteRef: { key: 'gone/soon' } }],
      });
      for (const name of ['retain', 'delete', 'merged']) await waitReady(name);
      const retained = await get('secret', 'retain');

      await dropRemoteKey();
      const retainReady = await waitReady('retain', 'False', 'RemoteSecretNotFound');
      expect(retainReady.message).toContain("remote key 'gone/soon' does not exist");
      expect((await get('secret', 'retain'))?.metadata.resourceVersion).toBe(retained?.metadata.resourceVersion);

      await waitReady('delete', 'False', 'SecretDeleted');
      expect(await get('secret', 'delete')).toBeUndefined();

      await waitReady('merged', 'False', 'SecretDeleted');
      expect(decodeData(await get('secret', 'merged'))).toEqual({ theirs: 'kept-e2e-value' });
    });
  });

  describe('status reasons and recovery', () => {
    it('StoreNotFound, then Ready within seconds once the store exists', async () => {
      await es('late-store', { secretStoreRef: { name: 'late' }, data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] });
      const ready = await waitReady('late-store', 'False', 'StoreNotFound');
      expect(ready.message).toContain("SecretStore 'late'");
      const started = Date.now();
      await store('late', [{ key: 'k', value: 'late-e2e-value' }]);
      await waitReady('late-store', 'True');
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('a SecretStore in another namespace cannot be used', async () => {
      const other = await cluster.createNamespace('other');
      await store('elsewhere', [{ key: 'k', value: 'elsewhere-e2e-value' }], undefined, other);
      await es('cross-ns', { secretStoreRef: { name: 'elsewhere' }, data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] });
      const ready = await waitReady('cross-ns', 'False', 'StoreNotFound');
      expect(ready.message).toContain(`in namespace '${ns}'`);
      await cluster.deleteNamespace(other);
    });

    (rbac === 'chart' ? it : it.skip)('StoreNotAllowed for a ClusterSecretStore that does not allow the namespace, until it does', async () => {
      const name = `css-${ns}`;
      served.push('cluster-e2e-value');
      await apply(cluster, [
        'apiVersion: lockstep.dev/v1alpha1', 'kind: ClusterSecretStore', `metadata: { name: ${name} }`, 'spec:',
        `  conditions: [ { namespaceSelector: { matchLabels: { allowed: "yes" } } } ]`,
        '  provider: { fake: { data: [ { key: k, value: cluster-e2e-value } ] } }',
      ].join('\n'));
      await es('cluster', { secretStoreRef: { kind: 'ClusterSecretStore', name }, data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] });
      const ready = await waitReady('cluster', 'False', 'StoreNotAllowed');
      expect(ready.message).toContain(`does not allow namespace '${ns}'`);
      await cluster.kubectl(['label', 'namespace', ns, 'allowed=yes']);
      await waitReady('cluster', 'True');
      await cluster.kubectl(['delete', 'clustersecretstore', name]);
    });

    (rbac === 'chart-namespaced' ? it : it.skip)('with namespaced Roles only, a ClusterSecretStore is refused with a message that says why', async () => {
      await es('no-cluster-stores', { secretStoreRef: { kind: 'ClusterSecretStore', name: 'any' }, data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] });
      const ready = await waitReady('no-cluster-stores', 'False', 'StoreNotAllowed');
      expect(ready.message).toContain('serves no ClusterSecretStores (--no-cluster-stores)');
      expect(ready.message).toContain(`use a SecretStore in namespace '${ns}'`);
    });

    it('InvalidSpec for a template that names a key the data does not have, and for an ESO-style template', async () => {
      await es('bad-template', {
        secretStoreRef: { name: 'main' },
        target: { template: { data: { dsn: 'db://{{ user }}:{{ pasword }}@host' } } },
        data: [{ secretKey: 'user', remoteRef: { key: 'db/creds', property: 'user' } }, { secretKey: 'password', remoteRef: { key: 'db/creds', property: 'password' } }],
      });
      const ready = await waitReady('bad-template', 'False', 'InvalidSpec');
      expect(ready.message).toContain("template for key 'dsn' names 'pasword', which the fetched data does not have; the keys it can use are 'user', 'password'");
      expect(await get('secret', 'bad-template')).toBeUndefined();
      await es('eso-template', {
        secretStoreRef: { name: 'main' },
        target: { template: { data: { dsn: '{{ .password }}' } } },
        data: [{ secretKey: 'password', remoteRef: { key: 'db/creds', property: 'password' } }],
      });
      expect((await waitReady('eso-template', 'False', 'InvalidSpec')).message).toContain('write {{ password }}, not {{ .password }}');
    });

    it('a catastrophic find pattern does not stall the operator: other ExternalSecrets keep syncing on time', async () => {
      // `^(a+)+$` against 40 a's and a '!' takes a backtracking engine longer than the test run;
      // RE2 answers at once. The ExternalSecret matches nothing, and its neighbour still syncs.
      await store('patterns', [{ key: `${'a'.repeat(40)}!`, value: 'stall-e2e-a' }, { key: 'plain', value: 'stall-e2e-1' }], '1s');
      await es('neighbour', { secretStoreRef: { name: 'patterns' }, refreshInterval: '1s', data: [{ secretKey: 'v', remoteRef: { key: 'plain' } }] });
      await waitReady('neighbour');
      await es('catastrophic', { secretStoreRef: { name: 'patterns' }, refreshInterval: '1s', dataFrom: [{ find: { name: { regexp: '^(a+)+$' } } }] });
      expect((await waitReady('catastrophic', 'False', 'RemoteSecretNotFound')).message).toContain("matched no remote secret");
      const changed = Date.now();
      await store('patterns', [{ key: `${'a'.repeat(40)}!`, value: 'stall-e2e-a' }, { key: 'plain', value: 'stall-e2e-2' }], '1s');
      await eventually(async () => decodeData(await get('secret', 'neighbour'))['v'] === 'stall-e2e-2', 10_000, 'the neighbour to sync');
      expect(Date.now() - changed).toBeLessThan(5000);
    });

    it('InvalidSpec for a pattern RE2 does not accept (lookaround), naming the field', async () => {
      await es('lookahead', { secretStoreRef: { name: 'main' }, dataFrom: [{ find: { name: { regexp: '^(?!team/).*' } } }] });
      const ready = await waitReady('lookahead', 'False', 'InvalidSpec');
      expect(ready.message).toContain("dataFrom[0].find.name.regexp '^(?!team/).*' is not a valid regular expression");
    });

    it('a value that an error message happens to carry is scrubbed from status and Events too', async () => {
      // 'zebra-scrub-e2e' is a value one ExternalSecret fetched and also, by accident, the name of a
      // remote key another one asks for: its NotFound message would carry it.
      await store('echo', [{ key: 'k', value: 'zebra-scrub-e2e' }], '1s');
      await es('echo-value', { secretStoreRef: { name: 'echo' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] });
      await waitReady('echo-value');
      await es('echo-missing', { secretStoreRef: { name: 'echo' }, data: [{ secretKey: 'v', remoteRef: { key: 'zebra-scrub-e2e' } }] });
      const ready = await waitReady('echo-missing', 'False', 'RemoteSecretNotFound');
      expect(ready.message).toContain("remote key '[REDACTED]' does not exist");
      const events = await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '--field-selector', 'regarding.name=echo-missing', '-o', 'jsonpath={.items[*].note}']);
      expect(events).toContain('[REDACTED]');
      expect(events).not.toContain('zebra-scrub-e2e');
    });

    it('InvalidSpec for a property that does not exist', async () => {
      await es('bad-prop', { secretStoreRef: { name: 'main' }, data: [{ secretKey: 'a', remoteRef: { key: 'db/creds', property: 'nested.nope' } }] });
      const ready = await waitReady('bad-prop', 'False', 'InvalidSpec');
      expect(ready.message).toContain("property 'nested.nope' does not exist in remote key 'db/creds'");
      const events = await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '--field-selector', 'regarding.name=bad-prop', '-o', 'jsonpath={.items[*].reason}']);
      expect(events.split(' ')).toContain('InvalidSpec');
    });
  });

  describe('stores, immutability and force-sync', () => {
    it('an invalid store reports InvalidProviderConfig, and its ExternalSecrets StoreNotReady', async () => {
      await store('dup', [{ key: 'k', value: 'dup-e2e-1' }, { key: 'k', value: 'dup-e2e-2' }]);
      const storeReady = await eventually(async () => {
        const r = readyOf(await get('secretstore', 'dup'));
        return r?.status === 'False' ? r : undefined;
      }, 30_000, 'store Ready=False');
      expect(storeReady).toMatchObject({ reason: 'InvalidProviderConfig' });
      expect(storeReady.message).toContain("key 'k' is listed twice");
      await es('on-dup', { secretStoreRef: { name: 'dup' }, data: [{ secretKey: 'a', remoteRef: { key: 'k' } }] });
      const ready = await waitReady('on-dup', 'False', 'StoreNotReady');
      expect(ready.message).toContain("SecretStore 'dup'");
    });

    it('writes an immutable Secret, and reports SecretImmutable when its content must change', async () => {
      await store('imm', [{ key: 'k', value: 'immutable-e2e-one' }], '1s');
      await es('imm', { secretStoreRef: { name: 'imm' }, target: { immutable: true }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] });
      await waitReady('imm');
      expect(JSON.parse(await cluster.kubectl(['get', 'secret', 'imm', '-n', ns, '-o', 'jsonpath={.immutable}']))).toBe(true);
      await store('imm', [{ key: 'k', value: 'immutable-e2e-two' }], '1s');
      const ready = await waitReady('imm', 'False', 'SecretImmutable');
      expect(ready.message).toContain('delete it');
      expect(decodeData(await get('secret', 'imm')).v).toBe('immutable-e2e-one');
    });

    it('force-sync reads the provider at once', async () => {
      await store('forced', [{ key: 'k', value: 'forced-e2e-one' }]);
      await es('forced', { secretStoreRef: { name: 'forced' }, refreshInterval: '1h', data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] });
      await waitReady('forced');
      // The fake provider's values live in the store's spec, so a change there re-reads anyway:
      // what proves the force is one more provider read with nothing else changed.
      const label = { store: `SecretStore/${ns}/forced`, operation: 'getSecret' };
      const reads = await op.counter('lockstep_provider_requests_total', label);
      await cluster.kubectl(['annotate', 'externalsecret', 'forced', '-n', ns, 'lockstep.dev/force-sync=1', '--overwrite']);
      await eventually(async () => (await op.counter('lockstep_provider_requests_total', label)) === reads + 1, 10_000, 'a forced read');
    });
  });

  describe('refresh, restore and writes', () => {
    beforeAll(async () => {
      await store('rotating', [{ key: 'k', value: 'rotating-e2e-one' }], '1s');
      await es('rotating', { secretStoreRef: { name: 'rotating' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] });
      await waitReady('rotating');
    });

    it('makes no Secret write on unchanged refreshes, and reconciles only when something is due', async () => {
      const before = await get('secret', 'rotating');
      const reads = await op.counter('lockstep_provider_requests_total', { store: `SecretStore/${ns}/rotating`, operation: 'getSecret' });
      const syncs = await op.counter('lockstep_sync_total');
      await eventually(async () => (await op.counter('lockstep_provider_requests_total', { store: `SecretStore/${ns}/rotating`, operation: 'getSecret' })) >= reads + 3, 20_000, 'three more refreshes');
      expect((await get('secret', 'rotating'))?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
      // About one reconcile per refresh: a refresh that came due again at once would spin by the thousand.
      expect((await op.counter('lockstep_sync_total')) - syncs).toBeLessThan(30);
    });

    it('picks up a changed value on the next refresh', async () => {
      await store('rotating', [{ key: 'k', value: 'rotating-e2e-two' }], '1s');
      await eventually(async () => decodeData(await get('secret', 'rotating')).v === 'rotating-e2e-two', 15_000, 'the new value');
    });

    it('restores an edited Secret, and a deleted one, without a provider call', async () => {
      await apply(cluster, secretStore(ns, 'static', [{ key: 'k', value: 'static-e2e-value' }]));
      served.push('static-e2e-value');
      await es('restored', { secretStoreRef: { name: 'static' }, refreshInterval: '1h', data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] });
      await waitReady('restored');
      const storeLabel = { store: `SecretStore/${ns}/static`, operation: 'getSecret' };
      const reads = await op.counter('lockstep_provider_requests_total', storeLabel);

      await cluster.kubectl(['patch', 'secret', 'restored', '-n', ns, '-p', '{"data":{"v":"dGFtcGVyZWQ="}}']);
      await eventually(async () => decodeData(await get('secret', 'restored')).v === 'static-e2e-value', 10_000, 'restore after edit');
      await cluster.kubectl(['delete', 'secret', 'restored', '-n', ns]);
      await eventually(async () => decodeData(await get('secret', 'restored')).v === 'static-e2e-value', 10_000, 'restore after delete');
      expect(await op.counter('lockstep_provider_requests_total', storeLabel)).toBe(reads);
    });
  });

  describe('store budget', () => {
    it('a store with a tight rateLimit still syncs every ExternalSecret, with one provider call per read', async () => {
      const data = Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, value: `budget-e2e-value-${i}` }));
      served.push(...data.map((d) => d.value));
      await cluster.kubectl(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'budgeted', namespace: ns },
        spec: { rateLimit: { qps: 4, burst: 1 }, provider: { fake: { data } } },
      }));
      for (const d of data) {
        await es(`budget-${d.key}`, { secretStoreRef: { name: 'budgeted' }, refreshInterval: '1h', data: [{ secretKey: 'v', remoteRef: { key: d.key } }] });
      }
      for (const d of data) {
        await waitReady(`budget-${d.key}`);
        expect(decodeData(await get('secret', `budget-${d.key}`)).v).toBe(d.value);
      }
      expect(await op.counter('lockstep_provider_requests_total', { store: `SecretStore/${ns}/budgeted`, operation: 'getSecret' })).toBe(4);
    });
  });

  describe('rights', () => {
    it("the chart's RBAC is enough: the API server refused the operator nothing", () => {
      expect(op.output().split('\n').filter((line) => /forbidden/i.test(line))).toEqual([]);
    });
  });

  describe('secret values never leave the cluster', () => {
    it('appear nowhere in the operator output, raw or base64', () => {
      expect(op.output().length).toBeGreaterThan(1000);
      expect(findLeaks(op.output(), served)).toEqual([]);
    });
  });
}
