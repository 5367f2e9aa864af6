// The KubeClient adapter against a real kube-apiserver: server-side apply (also on /status),
// error mapping, pagination, Events, request counting.
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import type { KubeClientHandle } from '../../src/kube/kube-client.js';
import { ConflictError, InvalidError, NotFoundError } from '../../src/kube/kube-errors.js';
import { CoreResources, type KubeObject, type Resource } from '../../src/kube/kube-port.js';
import { countingClient, uniqueName, waitUntil } from './kube-fixtures.js';

const widget: Resource = { group: 'e2e.lockstep.dev', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.e2e.lockstep.dev' },
  spec: {
    group: 'e2e.lockstep.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [{
      name: 'v1', served: true, storage: true, subresources: { status: {} },
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: { type: 'object', properties: { size: { type: 'integer' } } },
            status: {
              type: 'object',
              properties: {
                phase: { type: 'string' },
                conditions: {
                  type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'],
                  items: { type: 'object', required: ['type', 'status'], properties: { type: { type: 'string' }, status: { type: 'string' } } },
                },
              },
            },
          },
        },
      },
    }],
  },
};

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

interface ManagedField { manager: string; operation: string; subresource?: string }

let cluster: TestCluster;
let ns: string;
let kube: KubeClientHandle;
let requests: string[];

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('kube-client');
  ({ kube, requests } = countingClient(cluster.kubeconfigPath, { listPageSize: 2 }));
});
afterAll(async () => {
  await cluster.deleteNamespace(ns);
  await kube.close();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const managers = (obj: KubeObject | undefined) => (obj?.metadata.managedFields as ManagedField[] | undefined) ?? [];

describe('server-side apply', () => {
  it('creates then updates a Secret as field manager lockstep', async () => {
    const name = uniqueName('applied');
    const first = await kube.apply<SecretObject>(CoreResources.secret, {
      metadata: { name, namespace: ns, labels: { 'lockstep.dev/managed': 'true' } }, type: 'Opaque', data: { a: b64('1') },
    });
    expect(first.metadata.uid).toBeDefined();
    expect(managers(first)).toEqual([expect.objectContaining({ manager: 'lockstep', operation: 'Apply' })]);

    const second = await kube.apply<SecretObject>(CoreResources.secret, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, data: { b: b64('2') },
    });
    expect(second.metadata.uid).toBe(first.metadata.uid);
    expect(second.data).toEqual({ b: b64('2') }); // fields we no longer apply are removed
    expect(second.metadata.labels).toBeUndefined();
    const read = await kube.get<SecretObject>(CoreResources.secret, name, ns);
    expect(read?.metadata.resourceVersion).toBe(second.metadata.resourceVersion);
  });

  it('reports a field-manager conflict, and takes the field over with force', async () => {
    const name = uniqueName('contested');
    await cluster.kubectl(['create', 'secret', 'generic', name, '-n', ns, '--from-literal=k=theirs']);
    const ours = { metadata: { name, namespace: ns }, data: { k: b64('ours') } };
    const err = await kube.apply(CoreResources.secret, ours).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).message).toMatch(/conflict/i);
    const forced = await kube.apply<SecretObject>(CoreResources.secret, ours, { force: true });
    expect(forced.data?.k).toBe(b64('ours'));
  });
});

describe('status subresource of a CRD-backed object', () => {
  beforeAll(async () => {
    await kube.apply(CoreResources.customResourceDefinition, widgetCrd, { force: true });
    await waitUntil('CRD established', async () => {
      const crd = await kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
        CoreResources.customResourceDefinition, 'widgets.e2e.lockstep.dev');
      return crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
    });
    await waitUntil('widgets served', async () => {
      try { await kube.list(widget, { namespace: ns }); return true; } catch { return false; }
    });
  });

  it('applies status without touching spec, and status writes through the main resource are ignored', async () => {
    const name = uniqueName('w');
    const created = await kube.apply<KubeObject>(widget, { metadata: { name, namespace: ns }, spec: { size: 3 }, status: { phase: 'Ignored' } });
    expect(created.status).toBeUndefined();
    const withStatus = await kube.apply<KubeObject>(widget, {
      metadata: { name, namespace: ns }, status: { phase: 'Ready', conditions: [{ type: 'Ready', status: 'True' }] },
    }, { subresource: 'status' });
    expect(withStatus.spec).toEqual({ size: 3 });
    expect(withStatus.status).toEqual({ phase: 'Ready', conditions: [{ type: 'Ready', status: 'True' }] });
    expect(managers(withStatus)).toContainEqual(expect.objectContaining({ manager: 'lockstep', subresource: 'status' }));
    expect(withStatus.metadata.generation).toBe(created.metadata.generation);

    const patched = await kube.patch(widget, name, ns, { status: { phase: 'Degraded' } }, { subresource: 'status' });
    expect(patched.status).toMatchObject({ phase: 'Degraded' });
    const jsonPatched = await kube.patch(widget, name, ns, [{ op: 'replace', path: '/spec/size', value: 4 }], { type: 'json' });
    expect(jsonPatched.spec).toEqual({ size: 4 });
  });

  it('maps a status apply to a missing object to NotFoundError', async () => {
    const err = await kube.apply(widget, { metadata: { name: 'missing', namespace: ns }, status: { phase: 'x' } }, { subresource: 'status' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
  });
});

describe('reads and error mapping', () => {
  it('returns undefined for a missing object (also in a missing namespace)', async () => {
    await expect(kube.get(CoreResources.secret, 'does-not-exist', ns)).resolves.toBeUndefined();
    await expect(kube.get(CoreResources.secret, 'x', 'no-such-namespace')).resolves.toBeUndefined();
  });

  it('maps AlreadyExists and a stale resourceVersion to ConflictError, bad names to InvalidError', async () => {
    const name = uniqueName('dup');
    const created = await kube.create<SecretObject>(CoreResources.secret, { metadata: { name, namespace: ns }, data: { a: b64('1') } });
    const exists = await kube.create(CoreResources.secret, { metadata: { name, namespace: ns } }).catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(ConflictError);
    expect((exists as ConflictError).reason).toBe('AlreadyExists');

    await kube.replace(CoreResources.secret, { ...created, data: { a: b64('2') } });
    const stale = await kube.replace(CoreResources.secret, { ...created, data: { a: b64('3') } }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect((stale as ConflictError).reason).toBe('Conflict');

    const invalid = await kube.create(CoreResources.secret, { metadata: { name: 'Not_Valid', namespace: ns } }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidError);
    expect((invalid as InvalidError).status).toBe(422);
  });

  it('deletes with a uid precondition and tolerates an object already gone', async () => {
    const name = uniqueName('del');
    const created = await kube.create<KubeObject>(CoreResources.secret, { metadata: { name, namespace: ns } });
    const wrongUid = await kube.delete(CoreResources.secret, name, ns, { uid: 'not-the-uid' }).catch((e: unknown) => e);
    expect(wrongUid).toBeInstanceOf(ConflictError);
    await kube.delete(CoreResources.secret, name, ns, { uid: created.metadata.uid });
    await kube.delete(CoreResources.secret, name, ns);
    await expect(kube.get(CoreResources.secret, name, ns)).resolves.toBeUndefined();
  });

  it('lists across pages, with label selectors, and metadata only', async () => {
    const label = uniqueName('page');
    for (let i = 0; i < 5; i++) {
      await kube.apply(CoreResources.secret, { metadata: { name: `${label}-${i}`, namespace: ns, labels: { page: label } }, data: { k: b64('v') } });
    }
    const before = requests.filter((r) => r.startsWith('list secrets')).length;
    const all = await kube.list<SecretObject>(CoreResources.secret, { namespace: ns, labelSelector: `page=${label}` });
    expect(all.items.map((s) => s.metadata.name).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${label}-${i}`));
    expect(all.items.every((s) => s.kind === 'Secret' && s.data?.k === b64('v'))).toBe(true);
    expect(Number(all.resourceVersion)).toBeGreaterThan(0);
    expect(requests.filter((r) => r.startsWith('list secrets')).length - before).toBe(3); // pages of 2

    const meta = await kube.list<SecretObject>(CoreResources.secret, { namespace: ns, labelSelector: `page=${label}`, metadataOnly: true });
    expect(meta.items).toHaveLength(5);
    expect(meta.items[0]?.data).toBeUndefined();
    expect(meta.items[0]?.metadata.labels).toEqual({ page: label });
  });
});

describe('events and metrics', () => {
  it('writes an events.k8s.io/v1 Event that kubectl can read', async () => {
    const name = uniqueName('regarding');
    const target = await kube.create<KubeObject>(CoreResources.secret, { metadata: { name, namespace: ns } });
    await kube.createEvent({
      regarding: { apiVersion: 'v1', kind: 'Secret', name, namespace: ns, uid: target.metadata.uid },
      type: 'Warning', reason: 'SecretRotated', message: 'value changed for key password', action: 'Sync',
    });
    const events = await kube.list<KubeObject & { reason?: string; reportingController?: string; note?: string }>(
      CoreResources.event, { namespace: ns, fieldSelector: `regarding.name=${name}` });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]).toMatchObject({ reason: 'SecretRotated', reportingController: 'lockstep.dev/controller', note: 'value changed for key password' });
    const text = await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '-o', 'jsonpath={.items[*].reason}']);
    expect(text).toContain('SecretRotated');
  });

  it('counted every request with its status code', () => {
    expect(requests.length).toBeGreaterThan(20);
    expect(requests).toContain('apply secrets 200');
    expect(requests).toContain('apply secrets 201');
    expect(requests).toContain('get secrets 404');
    expect(requests).toContain('apply widgets.e2e.lockstep.dev/status 200');
    expect(requests).toContain('create events.events.k8s.io 201');
    expect(requests.every((r) => /^\w+ \S+ \d{3}$/.test(r))).toBe(true);
  });
});
