import { parseOnce } from './parse-once.js';
import { ExternalSecretSpec, ExternalSecretStatus } from './external-secret.js';
import { ClusterSecretStoreSpec, SecretStoreStatus } from './secret-store.js';

/** Every def type in a zod schema, walked through objects, wrappers, arrays, records, unions and lazies. */
function defTypes(schema: unknown, seen = new Set<unknown>()): Set<string> {
  const types = new Set<string>();
  const visit = (s: unknown): void => {
    if (!s || typeof s !== 'object' || seen.has(s)) return;
    seen.add(s);
    const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return;
    types.add(String(def['type']));
    if (def['coerce']) types.add('coerce');
    const shape = def['shape'] as Record<string, unknown> | undefined;
    for (const child of Object.values(shape ?? {})) visit(child);
    for (const key of ['innerType', 'element', 'keyType', 'valueType', 'in', 'out', 'catchall']) visit(def[key]);
    for (const option of (def['options'] as unknown[] | undefined) ?? []) visit(option);
    if (typeof def['getter'] === 'function') visit((def['getter'] as () => unknown)());
  };
  visit(schema);
  return types;
}

describe('parseOnce', () => {
  it('rests on schemas that only check: no defaults, transforms, pipes, catches or coercion', () => {
    for (const schema of [ExternalSecretSpec, ExternalSecretStatus, ClusterSecretStoreSpec, SecretStoreStatus]) {
      const types = defTypes(schema);
      expect(types.has('object')).toBe(true); // the walk reached the schema
      for (const forbidden of ['default', 'prefault', 'transform', 'pipe', 'catch', 'coerce']) expect(types.has(forbidden)).toBe(false);
    }
  });

  it('parses a full spec to an equal object, and then answers with the object itself', () => {
    const spec = {
      secretStoreRef: { name: 'shared', kind: 'ClusterSecretStore' },
      refreshInterval: '1h',
      refreshPolicy: 'Periodic',
      target: { name: 'db', creationPolicy: 'Owner', deletionPolicy: 'Retain', template: { type: 'Opaque', data: { url: 'postgres://{{ user }}@db' } } },
      data: [{ secretKey: 'user', remoteRef: { key: 'db', property: 'user', version: 'v1', decodingStrategy: 'None', metadataPolicy: 'None' } }],
      dataFrom: [
        { extract: { key: 'app', conversionStrategy: 'Default' }, rewrite: [{ regexp: { source: '^(.*)$', target: 'app_$1' } }] },
        { find: { name: { regexp: '^team-' }, tags: { env: 'prod' }, path: 'team' } },
      ],
    };
    const first = parseOnce(ExternalSecretSpec, spec);
    expect(first.success).toBe(true);
    expect(first.data).toEqual(spec); // nothing added, nothing changed
    const again = parseOnce(ExternalSecretSpec, spec);
    expect(again.data).toBe(spec);
    // One schema's pass says nothing for another.
    const both = { secretStoreRef: { name: 'shared' }, conditions: 'not a list' };
    expect(parseOnce(ExternalSecretSpec, both).success).toBe(true);
    expect(parseOnce(ExternalSecretStatus, both).success).toBe(false);
  });

  it('parses an invalid object every time, with its errors', () => {
    const spec = { secretStoreRef: { name: '' }, data: [{ secretKey: 'bad key', remoteRef: { key: 'db' } }] };
    for (let i = 0; i < 2; i++) {
      const result = parseOnce(ExternalSecretSpec, spec);
      expect(result.success).toBe(false);
      expect(result.error?.issues.length).toBeGreaterThan(0);
    }
  });

  it('parses values that are not objects as the schema does', () => {
    expect(parseOnce(ExternalSecretSpec, undefined).success).toBe(false);
    expect(parseOnce(ExternalSecretStatus, {}).success).toBe(true);
  });
});
