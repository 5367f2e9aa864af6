import { API_VERSION } from '../api/constants.js';
import type { KubeObject } from '../kube/kube-port.js';
import { StringPool } from '../kube/string-pool.js';
import { runInFreshNode } from '../runtime/testing/fresh-node.js';
import { buildCachedExternalSecret } from './cached-external-secret.js';

/** An ExternalSecret as a watch event brings it, synced (its text: each parse makes fresh strings). */
function esText(i: number): string {
  const name = `es-${String(i).padStart(5, '0')}`;
  const time = new Date(Date.UTC(2026, 11, 3, 14, 0, Math.floor(i / 200))).toISOString().replace('.000', '');
  return JSON.stringify({
    apiVersion: API_VERSION, kind: 'ExternalSecret',
    metadata: {
      name, namespace: `team-${i % 10}`, uid: `6f1c${String(i).padStart(4, '0')}-1a2b-4c3d-8e9f-0a1b2c3d4e5f`, resourceVersion: String(100_000 + i),
      generation: 1, creationTimestamp: time, labels: { 'app.kubernetes.io/part-of': 'payments' },
      annotations: { 'lockstep.dev/force-sync': '1' },
    },
    spec: {
      secretStoreRef: { name: 'vault-backend' },
      data: [
        { secretKey: 'username', remoteRef: { key: `apps/${name}/database`, property: 'username' } },
        { secretKey: 'password', remoteRef: { key: `apps/${name}/database`, property: 'password' } },
      ],
    },
    status: {
      observedGeneration: 1, refreshTime: time, syncedResourceVersion: '0123456789abcdef', binding: { name },
      conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', message: `Secret '${name}' is in sync (2 keys)`, lastTransitionTime: time, observedGeneration: 1 }],
    },
  });
}

const parse = (text: string) => JSON.parse(text) as KubeObject;

describe('buildCachedExternalSecret', () => {
  it('keeps the spec, the status and the metadata readers use; drops labels and creationTimestamp', () => {
    const full = parse(esText(7));
    const cached = buildCachedExternalSecret(parse(esText(7)), new StringPool());
    const { labels: _labels, creationTimestamp: _created, ...metadata } = full.metadata;
    expect(cached).toEqual({ ...full, metadata });
    expect(Object.keys(cached.metadata).sort()).toEqual(['annotations', 'generation', 'name', 'namespace', 'resourceVersion', 'uid']);
  });

  it('keeps a deletionTimestamp, and an object without status has none', () => {
    const es = parse(esText(1));
    delete es['status'];
    es.metadata.deletionTimestamp = '2026-12-03T15:00:00Z';
    const cached = buildCachedExternalSecret(es, new StringPool());
    expect(cached.metadata.deletionTimestamp).toBe('2026-12-03T15:00:00Z');
    expect('status' in cached).toBe(false);
    expect(cached.kind).toBe('ExternalSecret');
    expect(cached.apiVersion).toBe(API_VERSION);
  });

  it('holds 10,000 ExternalSecrets in at least 250 bytes less each than parsed whole', () => {
    const { whole, cached } = runInFreshNode<{ whole: number; cached: number }>(`
      import { API_VERSION } from './src/api/constants.ts';
      import { StringPool } from './src/kube/string-pool.ts';
      import { buildCachedExternalSecret } from './src/controllers/cached-external-secret.ts';
      const esText = ${esText.toString()};
      const n = 10000;
      const texts = Array.from({ length: n }, (_, i) => esText(i));
      const whole = heapCost(() => texts.map((text) => JSON.parse(text)));
      const pool = new StringPool();
      const cached = heapCost(() => texts.map((text) => buildCachedExternalSecret(JSON.parse(text), pool)));
      console.log(JSON.stringify({ whole: whole / n, cached: cached / n }));`);
    expect(whole - cached).toBeGreaterThan(250);
  });
});
