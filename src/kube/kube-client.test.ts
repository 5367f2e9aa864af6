import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, type KubeClientHandle } from './kube-client.js';
import { ConflictError, GoneError, KubeError } from './kube-errors.js';
import { CoreResources, type KubeObject, type Resource } from './kube-port.js';
import { WatchIdleError, type WatchEvent } from './kube-watch.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Route = (req: Seen, res: ServerResponse) => void;

const widget: Resource = { group: 'e2e.lockstep.dev', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

/** A stand-in API server on 127.0.0.1 that records requests and answers with `route`. */
async function fakeApiServer(): Promise<{ server: Server; url: string; seen: Seen[]; route: { fn: Route } }> {
  const seen: Seen[] = [];
  const route: { fn: Route } = { fn: (_req, res) => json(res, 200, {}) };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      route.fn(entry, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, route };
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function writeKubeconfig(server: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-kube-'));
  tempDirs.push(dir);
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: test-token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
  return file;
}

describe('createKubeClient against a stand-in API server', () => {
  let api: Awaited<ReturnType<typeof fakeApiServer>>;
  let kube: KubeClientHandle;
  let counted: string[];

  beforeAll(async () => {
    api = await fakeApiServer();
  });
  afterAll(async () => {
    api.server.closeAllConnections();
    await new Promise((r) => api.server.close(r));
  });
  beforeEach(() => {
    api.seen.length = 0;
    api.route.fn = (_req, res) => json(res, 200, {});
    counted = [];
    kube = createKubeClient({
      kubeconfigPath: writeKubeconfig(api.url), fieldManager: 'lockstep', userAgent: 'lockstep/test',
      reportingInstance: 'pod-1', now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6), listPageSize: 2,
      metrics: { onRequest: (verb, resource, code) => counted.push(`${verb} ${resource} ${code}`) },
    });
  });
  afterEach(() => kube.close());

  it('server-side applies with the field manager, force, and a clean body', async () => {
    api.route.fn = (req, res) => json(res, 200, JSON.parse(req.body));
    const secret = { metadata: { name: 'db', namespace: 'a', managedFields: [{}] }, stringData: { k: 'v' } };
    const out = await kube.apply<KubeObject>(CoreResources.secret, secret, { force: true });
    const req = api.seen[0]!;
    expect(req.method).toBe('PATCH');
    expect(req.url).toBe('/api/v1/namespaces/a/secrets/db?fieldManager=lockstep&force=true');
    expect(req.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(req.headers['user-agent']).toBe('lockstep/test');
    expect(req.headers.authorization).toBe('Bearer test-token');
    expect(JSON.parse(req.body)).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'a' }, stringData: { k: 'v' } });
    expect(out.kind).toBe('Secret');
    expect(counted).toEqual(['apply secrets 200']);
  });

  it('applies and patches the status subresource', async () => {
    await kube.apply(widget, { metadata: { name: 'w', namespace: 'a' }, status: { ok: true } }, { subresource: 'status' });
    await kube.patch(widget, 'w', 'a', [{ op: 'add', path: '/status/x', value: 1 }], { subresource: 'status', type: 'json' });
    await kube.patch(CoreResources.secret, 'db', 'a', { metadata: { labels: { x: 'y' } } });
    expect(api.seen.map((s) => `${s.url} ${s.headers['content-type']}`)).toEqual([
      '/apis/e2e.lockstep.dev/v1/namespaces/a/widgets/w/status?fieldManager=lockstep application/apply-patch+yaml',
      '/apis/e2e.lockstep.dev/v1/namespaces/a/widgets/w/status?fieldManager=lockstep application/json-patch+json',
      '/api/v1/namespaces/a/secrets/db?fieldManager=lockstep application/merge-patch+json',
    ]);
    expect(counted[0]).toBe('apply widgets.e2e.lockstep.dev/status 200');
  });

  it('returns undefined for a missing object and maps other errors with the server message', async () => {
    api.route.fn = (req, res) => req.method === 'GET'
      ? status(res, 404, 'NotFound', 'secrets "nope" not found')
      : status(res, 409, 'AlreadyExists', 'secrets "db" already exists');
    await expect(kube.get(CoreResources.secret, 'nope', 'a')).resolves.toBeUndefined();
    const err = await kube.create(CoreResources.secret, { metadata: { name: 'db', namespace: 'a' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).message).toBe('create secrets a/db: secrets "db" already exists');
    expect((err as ConflictError).reason).toBe('AlreadyExists');
    expect(counted).toEqual(['get secrets 404', 'create secrets 409']);
  });

  it('lists every page and fills in apiVersion/kind', async () => {
    api.route.fn = (req, res) => {
      const next = req.url.includes('continue=t1');
      json(res, 200, {
        metadata: { resourceVersion: '42', continue: next ? undefined : 't1' },
        items: next ? [{ metadata: { name: 'c' } }] : [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }],
      });
    };
    const out = await kube.list(CoreResources.secret, { namespace: 'a', labelSelector: 'lockstep.dev/managed=true' });
    expect(out.resourceVersion).toBe('42');
    expect(out.items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual(['Secret/a', 'Secret/b', 'Secret/c']);
    expect(api.seen[0]!.url).toBe('/api/v1/namespaces/a/secrets?labelSelector=lockstep.dev%2Fmanaged%3Dtrue&limit=2');
    expect(counted).toEqual(['list secrets 200', 'list secrets 200']);
  });

  it('deletes with preconditions and treats an already deleted object as success', async () => {
    api.route.fn = (_req, res) => status(res, 404, 'NotFound', 'gone');
    await kube.delete(CoreResources.secret, 'db', 'a', { uid: 'u1', propagationPolicy: 'Background' });
    expect(JSON.parse(api.seen[0]!.body)).toEqual({
      apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'u1' }, propagationPolicy: 'Background',
    });
  });

  it('writes events.k8s.io/v1 Events', async () => {
    await kube.createEvent({
      regarding: { apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', name: 'db', namespace: 'a' },
      type: 'Normal', reason: 'SecretRotated', message: 'rotated', action: 'Sync',
    });
    expect(api.seen[0]!.url).toBe('/apis/events.k8s.io/v1/namespaces/a/events?fieldManager=lockstep');
    expect(JSON.parse(api.seen[0]!.body)).toMatchObject({
      eventTime: '2026-01-02T03:04:05.006000Z', reportingController: 'lockstep.dev/controller', reportingInstance: 'pod-1',
      metadata: { generateName: 'db-', namespace: 'a' },
    });
  });

  it('reports a refused connection as a transport error with status 0', async () => {
    const down = createKubeClient({
      kubeconfigPath: writeKubeconfig('http://127.0.0.1:1'), fieldManager: 'lockstep',
      metrics: { onRequest: (verb, resource, code) => counted.push(`${verb} ${resource} ${code}`) },
    });
    const err = await down.get(CoreResources.secret, 'x', 'a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).status).toBe(0);
    expect(counted).toEqual(['get secrets 0']);
    await down.close();
  });

  describe('watch', () => {
    it('streams events split across chunks and asks for bookmarks', async () => {
      api.route.fn = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const line = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '5' } } });
        res.write(line.slice(0, 10));
        setTimeout(() => {
          res.write(`${line.slice(10)}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"6"}}}\nnot json\n`);
          res.end();
        }, 20);
      };
      const got: WatchEvent[] = [];
      await kube.watch(CoreResources.secret, { namespace: 'a', resourceVersion: '4', timeoutSeconds: 300 }, (e) => got.push(e), new AbortController().signal);
      expect(got.map((e) => `${e.type}:${e.object.metadata.resourceVersion}`)).toEqual(['ADDED:5', 'BOOKMARK:6']);
      expect(api.seen[0]!.url).toBe('/api/v1/namespaces/a/secrets?watch=true&resourceVersion=4&allowWatchBookmarks=true&timeoutSeconds=300');
      expect(counted).toEqual(['watch secrets 200']);
    });

    it('fails with WatchIdleError when the stream goes silent, and GoneError on 410', async () => {
      api.route.fn = (_req, res) => { res.writeHead(200).write('\n'); };
      const idle = kube.watch(CoreResources.secret, { idleTimeoutMs: 100 }, () => undefined, new AbortController().signal);
      await expect(idle).rejects.toBeInstanceOf(WatchIdleError);
      api.route.fn = (_req, res) => status(res, 410, 'Expired', 'too old resource version');
      const gone = kube.watch(CoreResources.secret, {}, () => undefined, new AbortController().signal);
      await expect(gone).rejects.toBeInstanceOf(GoneError);
    });

    it('ends with the abort reason when the caller aborts', async () => {
      api.route.fn = (_req, res) => { res.writeHead(200).write('\n'); };
      const stop = new AbortController();
      const watching = kube.watch<KubeObject>(CoreResources.secret, {}, () => undefined, stop.signal);
      setTimeout(() => stop.abort(new Error('bye')), 50);
      await expect(watching).rejects.toThrow('bye');
    });
  });

describe('a kubeconfig only client-node understands', () => {
  it('authenticates through client-node, loaded only for it (an exec credential plugin)', async () => {
    const api = await fakeApiServer();
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-kube-'));
    tempDirs.push(dir);
    const file = join(dir, 'kubeconfig');
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'exec-token' } });
    writeFileSync(file, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${api.url}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: "${process.execPath}", args: ["-e", ${JSON.stringify(`console.log(${JSON.stringify(credential)})`)}], interactiveMode: Never } } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
    const kube = createKubeClient({ kubeconfigPath: file, fieldManager: 'lockstep' });
    try {
      api.route.fn = (_req, res) => json(res, 200, { metadata: { name: 'a' } });
      await kube.get(widget, 'a', 'ns');
      expect(api.seen[0]?.headers.authorization).toBe('Bearer exec-token');
    } finally {
      await kube.close();
      api.server.closeAllConnections();
      await new Promise((r) => api.server.close(r));
    }
  });
});
});
