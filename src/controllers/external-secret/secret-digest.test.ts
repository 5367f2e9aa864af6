import { Annotations } from '../../api/constants.js';
import { buildDesiredSecret, computeDataHash } from './secret-builder.js';
import { changedKeys, digestValue, holdsRendered, toCachedSecret } from './secret-digest.js';

const key = new TextEncoder().encode('hash-key-for-tests');
const spec = { secretStoreRef: { name: 's' } };
const values = new Map([['user', Buffer.from('app')], ['password', Buffer.from('s3cr3t-value')]]);

/** A Secret as we write it: our metadata, the values, and the hash annotation over them. */
function written() {
  const desired = buildDesiredSecret({ name: 'db', namespace: 'ns', spec }, values);
  const hash = computeDataHash(key, desired);
  const secret = {
    metadata: { name: 'db', namespace: 'ns', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z',
      labels: desired.labels, annotations: { ...desired.annotations, [Annotations.dataHash]: hash }, ownerReferences: [{ apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', name: 'db', uid: 'x' }] },
    type: 'Opaque',
    data: { ...desired.data },
  };
  const digests = Object.fromEntries(Object.entries(desired.data).map(([k, v]) => [k, digestValue(key, k, v)]));
  return { desired, hash, secret, digests };
}

describe('secret digests', () => {
  it('caches a Secret without its values: metadata, a keyed digest per key, and whether it is intact', () => {
    const { secret } = written();
    const cached = toCachedSecret(key, secret);
    expect(cached.intact).toBe(true);
    expect(Object.keys(cached.digests).sort()).toEqual(['password', 'user']);
    const text = JSON.stringify(cached);
    expect(text).not.toContain(secret.data.password);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('ownerReferences');
    expect(cached.metadata).toMatchObject({ name: 'db', namespace: 'ns', uid: 'u1', resourceVersion: '7' });
    // keyed: another key gives other digests
    expect(toCachedSecret(new TextEncoder().encode('other'), secret).digests.user).not.toBe(cached.digests.user);
  });

  it('holds the digests packed: the same digests as digestValue, key lists shared between Secrets', () => {
    const { secret, digests } = written();
    const a = toCachedSecret(key, secret);
    const b = toCachedSecret(key, { ...secret, metadata: { ...secret.metadata, name: 'db2' } });
    expect(a.digests).toEqual(digests);
    expect(Object.values(a.digests).every((d) => d.length === 16)).toBe(true);
    expect(a['keys']).toBe(b['keys']);
    expect(a.metadata.labels).toBe(b.metadata.labels);
    expect(a.metadata.labels).toEqual(secret.metadata.labels);
    expect(Object.isFrozen(a.metadata.labels)).toBe(true);
    expect(Object.isFrozen(secret.metadata.labels)).toBe(false);
    const relabelled = toCachedSecret(key, { ...secret, metadata: { ...secret.metadata, labels: { ...secret.metadata.labels, team: 'a' } } });
    expect(relabelled.metadata.labels).toEqual({ ...secret.metadata.labels, team: 'a' });
    const empty = toCachedSecret(key, { ...secret, data: undefined });
    expect(empty.digests).toEqual({});
    expect(changedKeys(empty, digests).sort()).toEqual(['password', 'user']);
  });

  it('finds digests among many keys, and compares with a cached Secret held as a plain object', () => {
    const data = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, Buffer.from(`v${i}`).toString('base64')]));
    const many = toCachedSecret(key, { metadata: { name: 'm', namespace: 'ns' }, data });
    const rendered = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, digestValue(key, k, v)]));
    expect(changedKeys(many, rendered)).toEqual([]);
    expect(changedKeys(many, { ...rendered, k7: digestValue(key, 'k7', 'eA==') })).toEqual(['k7']);
    const meta = { type: 'Opaque', labels: {}, annotations: {}, immutable: false };
    expect(holdsRendered(many, { meta, digests: rendered })).toBe(true);
    const plain = { metadata: many.metadata, type: 'Opaque', digests: many.digests, intact: false };
    expect(holdsRendered(plain, { meta, digests: rendered })).toBe(true);
    expect(changedKeys(plain, { k1: rendered['k1'] as string }).length).toBe(99);
  });

  it('is not intact when a value, a label or the type changed, or a key was added', () => {
    const edits: ((s: ReturnType<typeof written>['secret']) => void)[] = [
      (s) => { s.data.password = Buffer.from('edited').toString('base64'); },
      (s) => { s.metadata.labels = { ...s.metadata.labels, team: 'a' }; },
      (s) => { s.type = 'kubernetes.io/basic-auth'; },
      (s) => { (s.data as Record<string, string>).extra = 'eA=='; },
    ];
    for (const edit of edits) {
      const { secret } = written();
      edit(secret);
      expect(toCachedSecret(key, secret).intact).toBe(false);
    }
  });

  it('tells whether a Secret holds what we render, ignoring keys, labels and annotations others added', () => {
    const { desired, secret, digests } = written();
    const meta = desired;
    expect(holdsRendered(toCachedSecret(key, secret), { meta, digests })).toBe(true);
    const merged = { ...secret, data: { ...secret.data, theirs: 'eA==' }, metadata: { ...secret.metadata, labels: { ...secret.metadata.labels, team: 'a' } } };
    expect(holdsRendered(toCachedSecret(key, merged), { meta, digests })).toBe(true);
    const edited = { ...secret, data: { ...secret.data, user: Buffer.from('other').toString('base64') } };
    expect(holdsRendered(toCachedSecret(key, edited), { meta, digests })).toBe(false);
    const relabelled = { ...secret, metadata: { ...secret.metadata, labels: {} } };
    expect(holdsRendered(toCachedSecret(key, relabelled), { meta, digests })).toBe(false);
    const retyped = { ...secret, type: 'kubernetes.io/tls' };
    expect(holdsRendered(toCachedSecret(key, retyped), { meta, digests })).toBe(false);
  });

  it('names the keys a new rendering changes, added and removed ones included', () => {
    const { secret, digests } = written();
    const cached = toCachedSecret(key, secret);
    expect(changedKeys(cached, digests)).toEqual([]);
    const next = { ...digests, password: digestValue(key, 'password', 'bmV3'), token: digestValue(key, 'token', 'dA==') };
    delete (next as Record<string, string>).user;
    expect(changedKeys(cached, next).sort()).toEqual(['password', 'token', 'user']);
  });
});
