import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { CoreResources, type KubeClient, type KubeObject } from '../kube/kube-port.js';
import { ConflictError } from '../kube/kube-errors.js';

type SecretObject = KubeObject & { data?: Record<string, string> };
const KEY_FIELD = 'key';

/**
 * The HMAC key for data-hash annotations, kept in a Secret in the operator's namespace so every
 * replica and every restart computes the same hashes (a restart must cause no writes). Created on
 * first start; concurrent creators converge on whichever write won.
 */
export async function fetchOrCreateHashKey(kube: KubeClient, namespace: string, name: string): Promise<Uint8Array> {
  const existing = await kube.get<SecretObject>(CoreResources.secret, name, namespace);
  const stored = existing?.data?.[KEY_FIELD];
  if (stored) return Buffer.from(stored, 'base64');
  if (existing) throw new Error(`Secret '${namespace}/${name}' exists but has no '${KEY_FIELD}'; delete it to let Lockstep create it`);
  const body: SecretObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'lockstep' } },
    type: 'Opaque',
    data: { [KEY_FIELD]: randomBytes(32).toString('base64') },
  };
  try {
    const created = await kube.create(CoreResources.secret, body);
    return Buffer.from((created.data ?? body.data)?.[KEY_FIELD] as string, 'base64');
  } catch (err) {
    if (err instanceof ConflictError) return fetchOrCreateHashKey(kube, namespace, name);
    throw err;
  }
}

const keyObjects = new WeakMap<Uint8Array, KeyObject>();

/**
 * The hash key as a KeyObject, made once per key: `createHmac` with raw bytes converts them on
 * every call (it first tries them as a KeyObject and catches the failure), which made HMAC 3-4
 * times slower and about 10 % of the operator's CPU at 5,000 ExternalSecrets.
 */
export function hmacKey(hashKey: Uint8Array): KeyObject {
  let key = keyObjects.get(hashKey);
  if (!key) keyObjects.set(hashKey, (key = createSecretKey(hashKey)));
  return key;
}
