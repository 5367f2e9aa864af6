// The objects the benchmark syncs: per namespace one fake SecretStore with JSON values, and N
// ExternalSecrets spread over the namespaces, each reading two properties of one key and a whole
// key (three Secret keys). Values are `distinct` (each ExternalSecret reads a key of its own, as
// in a real fleet: every value is held for one ExternalSecret) or `shared` (20 keys per store read
// by every ExternalSecret, the benchmark's fleet before 2026-12-03).
import { createHash } from 'node:crypto';
import { KubeHttp, runPool, HttpError } from './kube-http.js';

export const GROUP_PATH = '/apis/lockstep.dev/v1alpha1';
export const SET_LABEL = 'bench.lockstep.dev/set';
export const STORE_NAME = 'fake';
const KEYS = 20;

export interface FakeEntry { key: string; value: string }

export type ValueMode = 'distinct' | 'shared';

/** The value of remote key `key` at soak `version`: JSON with a user, a password and a URL. */
export function remoteValue(key: string, version = 0): string {
  const random = createHash('sha256').update(`${key}/${version}`).digest('base64url').slice(0, 24);
  return JSON.stringify({ username: `user-${key}`, password: `pw-${version}-${random}`, url: `https://${key}.svc.example.com` });
}

/** The values of the store in `namespace` at soak `version` (a soak round changes every value of the stores it edits). */
export function storeData(refs: readonly EsRef[], namespace: string, version = 0): FakeEntry[] {
  const keys = new Set(refs.filter((r) => r.namespace === namespace).flatMap((r) => [r.keyA, r.keyB]));
  return [...keys].sort().map((key) => ({ key, value: remoteValue(key, version) }));
}

export interface EsRef {
  namespace: string;
  name: string;
  /** The remote key whose properties are read, and the key read whole. */
  keyA: string;
  keyB: string;
}

export function namespacesOf(set: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench-${set}-${i}`);
}

export function planExternalSecrets(namespaces: string[], n: number, mode: ValueMode): EsRef[] {
  const shared = (k: number) => `app-${String(k % KEYS).padStart(2, '0')}`;
  return Array.from({ length: n }, (_, i) => {
    const name = `es-${String(i).padStart(5, '0')}`;
    return {
      namespace: namespaces[i % namespaces.length] as string,
      name,
      keyA: mode === 'shared' ? shared(i) : `app-${name}`,
      keyB: mode === 'shared' ? shared(i + 7) : `app-${name}`,
    };
  });
}

export function externalSecretBody(set: string, ref: EsRef): Record<string, unknown> {
  return {
    apiVersion: 'lockstep.dev/v1alpha1',
    kind: 'ExternalSecret',
    metadata: { name: ref.name, namespace: ref.namespace, labels: { [SET_LABEL]: set } },
    spec: {
      secretStoreRef: { name: STORE_NAME },
      data: [
        { secretKey: 'username', remoteRef: { key: ref.keyA, property: 'username' } },
        { secretKey: 'password', remoteRef: { key: ref.keyA, property: 'password' } },
        { secretKey: 'config', remoteRef: { key: ref.keyB } },
      ],
    },
  };
}

/** The values the fake provider serves for an ExternalSecret (what the floor writes without a provider). */
export function expectedData(ref: EsRef): Record<string, string> {
  const a = JSON.parse(remoteValue(ref.keyA)) as { username: string; password: string };
  return { config: remoteValue(ref.keyB), password: a.password, username: a.username };
}

/** Creates the namespaces, one store each (refreshInterval 1h), then the ExternalSecrets at `concurrency`. */
export async function createFixtures(http: KubeHttp, set: string, namespaces: string[], refs: EsRef[], concurrency: number): Promise<void> {
  await runPool(namespaces, concurrency, async (ns) => {
    await createIgnoringConflict(http, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [SET_LABEL]: set } } });
    await createIgnoringConflict(http, `${GROUP_PATH}/namespaces/${ns}/secretstores`, {
      apiVersion: 'lockstep.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name: STORE_NAME, namespace: ns },
      spec: { refreshInterval: '1h', provider: { fake: { data: storeData(refs, ns) } } },
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
