import { emptyInformer, type Informer, type KubeObject } from '../kube/kube-port.js';
import { FileSetError, FileSetSource, type FileSetSourceDeps } from './file-set-source.js';

const objects: Record<string, KubeObject> = {
  files: { metadata: { name: 'files', namespace: 'app' }, spec: { secretStoreRef: { name: 's' }, data: [{ secretKey: 'k', remoteRef: { key: 'r' } }], target: { delivery: 'Files' } } },
  secret: { metadata: { name: 'secret', namespace: 'app' }, spec: { secretStoreRef: { name: 's' }, data: [{ secretKey: 'k', remoteRef: { key: 'r' } }] } },
  broken: { metadata: { name: 'broken', namespace: 'app' }, spec: { secretStoreRef: {} } },
};

function source(): FileSetSource {
  const externalSecrets: Informer<KubeObject> = { ...emptyInformer(), get: (name, namespace) => (namespace === 'app' ? objects[name] : undefined) };
  const informers = { externalSecrets, stores: emptyInformer(), clusterStores: emptyInformer(), namespaces: emptyInformer() };
  return new FileSetSource({ informers, hashKey: new Uint8Array(32), providerTimeoutMs: 1000 } as unknown as FileSetSourceDeps);
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err instanceof FileSetError ? `${err.status} ${err.message}` : String(err));

describe('FileSetSource.lookup', () => {
  it('finds an ExternalSecret delivered as files, its spec parsed (the schemas load on first use)', async () => {
    const { spec } = await source().lookup('app', 'files');
    expect(spec.target?.delivery).toBe('Files');
  });

  it('says why it cannot serve one: missing, invalid spec, or not delivered as files', async () => {
    const s = source();
    expect(await failure(s.lookup('app', 'gone'))).toBe("404 ExternalSecret 'app/gone' does not exist");
    expect(await failure(s.lookup('app', 'broken'))).toBe("409 ExternalSecret 'app/broken' has an invalid spec; see its status");
    expect(await failure(s.lookup('app', 'secret'))).toMatch(/^400 ExternalSecret 'app\/secret' is not delivered as files/);
  });
});
