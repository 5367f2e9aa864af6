// The objects the benchmark syncs: per namespace one fake SecretStore with a few JSON values, and
// N ExternalSecrets spread over the namespaces, each reading two properties of one key and a whole
// second key (three provider reads, three Secret keys).
import { KubeHttp, runPool, HttpError } from './kube-http.js';

export const GROUP_PATH = '/apis/lockstep.dev/v1alpha1';
export const SET_LABEL = 'bench.lockstep.dev/set';
export const STORE_NAME = 'fake';
const KEYS = 20;

export interface FakeEntry { key: string; value: string }

/** The store's values; `versions[k]` (the soak) changes key k's password. */
export function storeData(versions: readonly number[] = []): FakeEntry[] {
  return Array.from({ length: KEYS }, (_, k) => ({
    key: `app-${String(k).padStart(2, '0')}`,
    value: JSON.stringify({ username: `user-${k}`, password: `pw-${k}-${versions[k] ?? 0}-${'x'.repeat(24)}`, url: `https://svc-${k}.example.com` }),
  }));
}

/** Every key at `version` (a soak round changes every value of the stores it edits). */
export function soakVersions(version: number): number[] {
  return Array.from({ length: KEYS }, () => version);
}

export interface EsRef {
  namespace: string;
  name: string;
  /** Index into storeData() of the key whose properties are read, and of the key read whole. */
  keyA: number;
  keyB: number;
}

export function namespacesOf(set: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench-${set}-${i}`);
}

export function planExternalSecrets(namespaces: string[], n: number): EsRef[] {
  return Array.from({ length: n }, (_, i) => ({
    namespace: namespaces[i % namespaces.length] as string,
    name: `es-${String(i).padStart(5, '0')}`,
    keyA: i % KEYS,
    keyB: (i + 7) % KEYS,
  }));
}

export function externalSecretBody(set: string, ref: EsRef): Record<string, unknown> {
  const key = (k: number) => `app-${String(k).padStart(2, '0')}`;
  return {
    apiVersion: 'lockstep.dev/v1alpha1',
    kind: 'ExternalSecret',
    metadata: { name: ref.name, namespace: ref.namespace, labels: { [SET_LABEL]: set } },
    spec: {
      secretStoreRef: { name: STORE_NAME },
      data: [
        { secretKey: 'username', remoteRef: { key: key(ref.keyA), property: 'username' } },
        { secretKey: 'password', remoteRef: { key: key(ref.keyA), property: 'password' } },
        { secretKey: 'config', remoteRef: { key: key(ref.keyB) } },
      ],
    },
  };
}

/** The values the fake provider serves for an ExternalSecret (what the floor writes without a provider). */
export function expectedData(ref: EsRef): Record<string, string> {
  const data = storeData();
  const a = JSON.parse((data[ref.keyA] as FakeEntry).value) as { username: string; password: string };
  return { config: (data[ref.keyB] as FakeEntry).value, password: a.password, username: a.username };
}

/** Creates the namespaces, one store each (refreshInterval 1h), then the ExternalSecrets at `concurrency`. */
export async function createFixtures(http: KubeHttp, set: string, namespaces: string[], refs: EsRef[], concurrency: number): Promise<void> {
  await runPool(namespaces, concurrency, async (ns) => {
    await createIgnoringConflict(http, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [SET_LABEL]: set } } });
    await createIgnoringConflict(http, `${GROUP_PATH}/namespaces/${ns}/secretstores`, {
      apiVersion: 'lockstep.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name: STORE_NAME, namespace: ns },
      spec: { refreshInterval: '1h', provider: { fake: { data: storeData() } } },
    });
  });
  await runPool(refs, concurrency, async (ref) => {
    await createIgnoringConflict(http, `${GROUP_PATH}/namespaces/${ref.namespace}/externalsecrets`, externalSecretBody(set, ref));
  });
}

/** POSTs `body`; an existing object (409) is fine, and a few quick retries cover admission lag. */
export async function createIgnoringConflict(http: KubeHttp, path: string, body: unknown): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await http.send('POST', path, body);
      return;
    } catch (err) {
      if (err instanceof HttpError && err.status === 409) return;
      // Right after the namespace is created its admission cache may lag briefly; retry a few times.
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
}
