import { createHash } from 'node:crypto';
import { loadApiSchemas } from '../../api/schema-loader.js';
import type { KubeObject } from '../../kube/kube-port.js';
import type { StoreIdentity } from '../../providers/client-cache.js';
import { computeRefreshDelay } from './refresh-policy.js';
import { collectRoundReads, computeSpecVersion, describeRefresh, isInRound } from './refresh-round.js';

const store: StoreIdentity = { kind: 'ClusterSecretStore', name: 'shared', uid: 'store-uid', generation: 3 };
const INTERVAL_MS = 60_000;

interface Options {
  ns?: string;
  spec?: Record<string, unknown>;
  synced?: boolean;
  refreshedAt?: number;
  annotations?: Record<string, string>;
}

function externalSecret(name: string, opts: Options = {}): KubeObject {
  const es: KubeObject = {
    metadata: { name, namespace: opts.ns ?? 'team-a', uid: `uid-${name}`, generation: 1, annotations: opts.annotations },
    spec: {
      secretStoreRef: { kind: 'ClusterSecretStore', name: 'shared' },
      refreshInterval: '1m',
      data: [{ secretKey: 'v', remoteRef: { key: `key-${name}` } }],
      ...opts.spec,
    },
  };
  if (opts.synced !== false && opts.refreshedAt !== undefined) {
    es['status'] = { refreshTime: new Date(opts.refreshedAt).toISOString(), syncedResourceVersion: computeSpecVersion(es, store) };
  }
  return es;
}

/** The moment the ExternalSecrets of `store` refreshed at `at` next come due (the earliest of them). */
function firstDue(candidates: KubeObject[], at: number): number {
  return Math.min(
    ...candidates.map((es) => {
      const state = describeRefresh({ es, spec: es['spec'] as never, status: es['status'] as never ?? {}, store, now: at, secretExists: true });
      return at + (computeRefreshDelay(state) ?? Infinity);
    }),
  );
}

const collect = (candidates: KubeObject[], now: number, storeSpec: Record<string, unknown> = {}, labels: Record<string, Record<string, string>> = {}) =>
  collectRoundReads({ candidates, store, storeSpec: { provider: { fake: {} }, ...storeSpec } as never, namespaceLabels: (ns) => labels[ns], now, maxAgeOf: () => 1000 });

describe('refresh rounds', () => {
  beforeAll(() => loadApiSchemas()); // as the reconcile that collects a round does first

  const t0 = Date.parse('2026-11-22T10:00:00.000Z');

  it('asks no read for a periodic refresh that waits for the running round, but does for a first sync', () => {
    const candidates = Array.from({ length: 4 }, (_, i) => externalSecret(`es-${i}`, { refreshedAt: t0 }));
    candidates.push(externalSecret('new'));
    const due = firstDue(candidates.slice(0, 4), t0);
    const waiting = new Set(['team-a/es-1', 'team-a/es-2', 'team-a/new']);
    const round = collectRoundReads({
      candidates, store, storeSpec: { provider: { fake: {} } } as never, namespaceLabels: () => undefined, now: due, maxAgeOf: () => 1000,
      waits: (member) => waiting.has(member.key),
    });
    expect(round.members.map((m) => m.key).sort()).toEqual(['team-a/es-0', 'team-a/es-3', 'team-a/new']);
    expect(round.values.map((r) => r.ref.key).sort()).toEqual(['key-es-0', 'key-es-3', 'key-new']);
  });

  it('gathers every ExternalSecret of the store that comes due with the first one, once per remote ref', () => {
    const candidates = Array.from({ length: 40 }, (_, i) => externalSecret(`es-${i}`, { refreshedAt: t0 + (i % 7) * 1000, spec: { data: [{ secretKey: 'v', remoteRef: { key: `key-${i % 10}` } }] } }));
    const due = firstDue(candidates, t0 + 7000);
    expect(collect(candidates, due - INTERVAL_MS / 2).members).toHaveLength(0);
    const round = collect(candidates, due);
    expect(round.members).toHaveLength(40);
    expect(round.values.map((r) => r.ref.key).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `key-${i}`).sort());
  });

  it('leaves out ExternalSecrets that are not due, use another store, are forced, or may not use the store', () => {
    const now = t0 + 1000;
    const candidates = [
      externalSecret('fresh', { refreshedAt: now }), // just refreshed: next due about an interval away
      externalSecret('new'), // never synced: in the round
      externalSecret('other-store', { spec: { secretStoreRef: { kind: 'ClusterSecretStore', name: 'other' } } }),
      externalSecret('namespaced', { spec: { secretStoreRef: { name: 'shared' } } }),
      externalSecret('forced', { annotations: { 'lockstep.dev/force-sync': '1' } }),
      externalSecret('denied', { ns: 'team-b' }),
      externalSecret('invalid', { spec: { data: 'nope' } }),
    ];
    const round = collect(candidates, now, { conditions: [{ namespaces: ['team-a'] }] });
    expect(round.values.map((r) => r.ref.key)).toEqual(['key-new']);
    expect(round.members.map((m) => m.key)).toEqual(['team-a/new']);
  });

  it('admits a namespace by label selector, and collects extract and find reads', () => {
    const es = externalSecret('mixed', {
      ns: 'team-c',
      spec: {
        data: [{ secretKey: 'a', remoteRef: { key: 'db', property: 'user' } }, { secretKey: 'b', remoteRef: { key: 'db', property: 'user' } }],
        dataFrom: [{ extract: { key: 'app' } }, { find: { name: { regexp: '^svc-' } } }],
      },
    });
    const storeSpec = { conditions: [{ namespaceSelector: { matchLabels: { tier: 'prod' } } }] };
    expect(collect([es], t0, storeSpec, { 'team-c': { tier: 'dev' } }).members).toHaveLength(0);
    const round = collect([es], t0, storeSpec, { 'team-c': { tier: 'prod' } });
    expect(round.values).toEqual([{ ref: { key: 'db', property: 'user' }, maxAgeMs: 1000 }]);
    expect(round.maps).toEqual([{ ref: { key: 'app' }, maxAgeMs: 1000 }]);
    expect(round.finds).toEqual([{ ref: { name: { regexp: '^svc-' } }, maxAgeMs: 1000 }]);
  });

  it('counts an ExternalSecret due within its spread window as in the round, not one due later', () => {
    const es = externalSecret('one', { refreshedAt: t0 });
    const state = describeRefresh({ es, spec: es['spec'] as never, status: es['status'] as never, store, now: t0, secretExists: true });
    const delay = computeRefreshDelay(state) as number;
    expect(isInRound({ ...state, now: t0 + delay - INTERVAL_MS * 0.05 })).toBe(true);
    expect(isInRound({ ...state, now: t0 + delay - INTERVAL_MS * 0.05 - 1 })).toBe(false);
  });

  it('a new store generation puts every user in the round (their spec version changed)', () => {
    const es = externalSecret('one', { refreshedAt: t0 });
    const round = collectRoundReads({
      candidates: [es], store: { ...store, generation: 4 }, storeSpec: { provider: { fake: {} } } as never, namespaceLabels: () => undefined, now: t0 + 1,
      maxAgeOf: () => 0,
    });
    expect(round.members).toHaveLength(1);
  });

  it('reads a ref shared by several members with the oldest result any of them accepts', () => {
    const shared = { data: [{ secretKey: 'v', remoteRef: { key: 'shared' } }] };
    const candidates = [externalSecret('a', { spec: shared }), externalSecret('b', { spec: shared }), externalSecret('c')];
    const ages: Record<string, number> = { 'team-a/a': 500, 'team-a/b': 4000, 'team-a/c': 700 };
    const round = collectRoundReads({
      candidates, store, storeSpec: { provider: { fake: {} } } as never, namespaceLabels: () => undefined, now: t0,
      maxAgeOf: (m) => ages[m.key] ?? 0,
    });
    expect(round.values).toEqual([{ ref: { key: 'shared' }, maxAgeMs: 4000 }, { ref: { key: 'key-c' }, maxAgeMs: 700 }]);
  });
});

describe('computeSpecVersion', () => {
  it('is the first 8 bytes of the SHA-256 of generation, store uid and generation, and force-sync request, in hex (what status.syncedResourceVersion holds across versions)', () => {
    const es: KubeObject = { metadata: { name: 'db', namespace: 'team-a', generation: 3, annotations: { 'lockstep.dev/force-sync': 'now' } } };
    const expected = createHash('sha256').update('3|store-uid|7|now').digest('hex').slice(0, 16);
    expect(computeSpecVersion(es, { uid: 'store-uid', generation: 7 })).toBe(expected);
  });
});
