// fast-check arbitraries for e2e/faults/bad-input.test.ts: ExternalSecret and store specs that are
// valid, or near misses, each with what must happen to it (rejected at admission, or a Ready reason).
import fc from 'fast-check';
import type { FakeEntry } from '../support/resources.js';

/** The store every generated ExternalSecret reads (unless it names another on purpose). */
export const FUZZ_STORE = 'fuzz';
/** A store that is invalid (a key listed twice): its users report StoreNotReady. */
export const DUP_STORE = 'dup';

const CREDS = {
  user: 'app-fuzz-user', password: 'pw-fuzz-0001', nested: { token: 'tok-fuzz-0002', deep: { x: 'deep-fuzz-0003' } },
  n: 5, flag: true, arr: ['arr-fuzz-a1', 'arr-fuzz-b2'], nul: null,
};
export const FUZZ_DATA: FakeEntry[] = [
  { key: 'db/creds', value: JSON.stringify(CREDS) },
  { key: 'plain', value: 'plain-fuzz-value' },
  { key: 'api/one', value: 'api-one-fuzz-value' },
  { key: 'api/two', value: 'api-two-fuzz-value' },
  { key: 'team/db', value: 'team-db-fuzz-value' },
  { key: 'list', value: '["list-fuzz-1","list-fuzz-2"]' },
  { key: 'num', value: '42' },
  { key: 'null', value: 'null' },
  { key: 'weird', value: JSON.stringify({ ok: 'weird-ok-fuzz', 'a b': 'weird-space-fuzz', 'x/y': 'weird-slash-fuzz' }) },
  { key: 'versioned', value: 'versioned-fuzz-one', version: '1' },
  { key: 'versioned', value: 'versioned-fuzz-two', version: '2' },
];

/** What must happen to a generated object. */
export type Expect =
  | { kind: 'rejected'; message: RegExp }
  | { kind: 'ready'; reasons: string[]; message?: string; data?: Record<string, string> };

export interface Case {
  family: string;
  kind: 'ExternalSecret' | 'SecretStore' | 'ClusterSecretStore';
  spec: Record<string, unknown>;
  expect: Expect;
  /** Values this object serves (stores), for the leak scan. */
  values?: string[];
}

const fromStore = { secretStoreRef: { name: FUZZ_STORE } };
const oneKey = { data: [{ secretKey: 'v', remoteRef: { key: 'plain' } }] };
const rejected = (family: string, spec: Record<string, unknown>, message: RegExp): Case =>
  ({ family, kind: 'ExternalSecret', spec, expect: { kind: 'rejected', message } });
const ready = (family: string, spec: Record<string, unknown>, reasons: string[], message?: string): Case =>
  ({ family, kind: 'ExternalSecret', spec: { ...fromStore, ...spec }, expect: { kind: 'ready', reasons, message } });

/** Remote refs that are valid, with the value each yields. */
const GOOD_REFS: [Record<string, string>, string][] = [
  [{ key: 'plain' }, 'plain-fuzz-value'],
  [{ key: 'db/creds', property: 'user' }, CREDS.user],
  [{ key: 'db/creds', property: 'password' }, CREDS.password],
  [{ key: 'db/creds', property: 'nested.token' }, CREDS.nested.token],
  [{ key: 'db/creds', property: 'nested.deep.x' }, CREDS.nested.deep.x],
  [{ key: 'db/creds', property: 'n' }, '5'],
  [{ key: 'db/creds', property: 'flag' }, 'true'],
  [{ key: 'db/creds', property: 'nul' }, 'null'],
  [{ key: 'db/creds', property: 'arr' }, JSON.stringify(CREDS.arr)],
  [{ key: 'db/creds', property: 'arr.1' }, CREDS.arr[1] as string],
  [{ key: 'versioned', version: '1' }, 'versioned-fuzz-one'],
  [{ key: 'versioned' }, 'versioned-fuzz-two'],
];

/** Secret keys Kubernetes accepts, without dots so a Mustache template can name them. */
const goodKey = fc.stringMatching(/^[a-zA-Z0-9][-_a-zA-Z0-9]{0,30}$/);

/** A valid ExternalSecret, and the Secret it must produce (a small model of the API). */
const validExternalSecret: fc.Arbitrary<Case> = fc
  .record({
    items: fc.uniqueArray(fc.tuple(goodKey, fc.constantFrom(...GOOD_REFS)), { minLength: 1, maxLength: 6, selector: ([k]) => k }),
    extract: fc.boolean(),
    find: fc.boolean(),
    template: fc.option(fc.constantFrom('Merge', 'Replace'), { nil: undefined }),
    refreshInterval: fc.constantFrom(undefined, '1h', '15m', '90s', '1h30m', '0', '2.5m'),
    refreshPolicy: fc.constantFrom(undefined, 'Periodic', 'OnChange', 'CreatedOnce'),
    creationPolicy: fc.constantFrom(undefined, 'Owner', 'Orphan', 'None'),
  })
  .map(({ items, extract, find, template, refreshInterval, refreshPolicy, creationPolicy }) => {
    const data: Record<string, string> = {};
    if (extract) {
      for (const [k, v] of Object.entries(CREDS)) data[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    if (find) Object.assign(data, { one: 'api-one-fuzz-value', two: 'api-two-fuzz-value' });
    for (const [k, [, v]] of items) data[k] = v;
    const dataFrom = [
      ...(extract ? [{ extract: { key: 'db/creds' } }] : []),
      ...(find ? [{ find: { name: { regexp: '^api/' } }, rewrite: [{ regexp: { source: '^api/', target: '' } }] }] : []),
    ];
    const first = items[0]?.[0] as string;
    const templated = template ? { dsn: `x://{{ ${first} }}@{{${first}}}` } : undefined;
    const secret = template === 'Replace' ? {} : data;
    if (templated) secret.dsn = `x://${data[first]}@${data[first]}`;
    const spec = {
      ...fromStore,
      ...(refreshInterval ? { refreshInterval } : {}),
      ...(refreshPolicy ? { refreshPolicy } : {}),
      target: { ...(creationPolicy ? { creationPolicy } : {}), ...(templated ? { template: { mergePolicy: template, data: templated } } : {}) },
      data: items.map(([secretKey, [remoteRef]]) => ({ secretKey, remoteRef })),
      ...(dataFrom.length ? { dataFrom } : {}),
    };
    return {
      family: 'valid',
      kind: 'ExternalSecret' as const,
      spec,
      expect: { kind: 'ready' as const, reasons: ['SecretSynced'], data: creationPolicy === 'None' ? undefined : secret },
    };
  });

/** Manifests the API server must refuse, with the field (or rule) its message names. */
const admissionNearMiss: fc.Arbitrary<Case> = fc.oneof(
  fc.constantFrom('soon', '1d', '-5m', '1h ', '', '1.m', 'h', '5', '1h-', 'PT1H').map((d) =>
    rejected('bad duration', { ...fromStore, ...oneKey, refreshInterval: d }, /spec\.refreshInterval/)),
  fc.constantFrom('a/b', 'a b', '', 'ü', 'x'.repeat(254), 'key:1', 'tab\t').map((k) =>
    rejected('invalid secretKey', { ...fromStore, data: [{ secretKey: k, remoteRef: { key: 'plain' } }] }, /spec\.data\[0\]\.secretKey/)),
  fc.constantFrom<[string, Record<string, unknown>, RegExp]>(
    ['secretKey a number', { ...fromStore, data: [{ secretKey: 7, remoteRef: { key: 'plain' } }] }, /spec\.data\[0\]\.secretKey/],
    ['refreshInterval a number', { ...fromStore, ...oneKey, refreshInterval: 60 }, /spec\.refreshInterval/],
    ['target a string', { ...fromStore, ...oneKey, target: 'x' }, /spec\.target/],
    ['immutable a string', { ...fromStore, ...oneKey, target: { immutable: 'yes' } }, /spec\.target\.immutable/],
    ['data an object', { ...fromStore, data: { v: 'plain' } }, /spec\.data/],
    ['remoteRef without key', { ...fromStore, data: [{ secretKey: 'v', remoteRef: {} }] }, /spec\.data\[0\]\.remoteRef\.key/],
    ['empty remote key', { ...fromStore, data: [{ secretKey: 'v', remoteRef: { key: '' } }] }, /spec\.data\[0\]\.remoteRef\.key/],
    ['unknown store kind', { secretStoreRef: { name: FUZZ_STORE, kind: 'Vault' }, ...oneKey }, /spec\.secretStoreRef\.kind/],
    ['unknown refreshPolicy', { ...fromStore, ...oneKey, refreshPolicy: 'Always' }, /spec\.refreshPolicy/],
    ['unknown mergePolicy', { ...fromStore, ...oneKey, target: { template: { mergePolicy: 'Sometimes' } } }, /mergePolicy/],
    ['upper-case target name', { ...fromStore, ...oneKey, target: { name: 'UPPER' } }, /spec\.target\.name/],
    ['no data', { ...fromStore }, /set at least one entry in data or dataFrom/],
    ['empty data', { ...fromStore, data: [] }, /set at least one entry in data or dataFrom/],
    ['empty dataFrom entry', { ...fromStore, dataFrom: [{}] }, /exactly one of extract or find/],
    ['extract and find', { ...fromStore, dataFrom: [{ extract: { key: 'a' }, find: { path: 'x' } }] }, /exactly one of extract or find/],
    ['empty find', { ...fromStore, dataFrom: [{ find: {} }] }, /spec\.dataFrom\[0\]\.find/],
    ['Delete with Merge', { ...fromStore, ...oneKey, target: { creationPolicy: 'Merge', deletionPolicy: 'Delete' } }, /deletionPolicy Delete requires/],
    ['Merge deletion with Owner', { ...fromStore, ...oneKey, target: { deletionPolicy: 'Merge' } }, /deletionPolicy Merge requires/],
    ['rollout target Pod', { ...fromStore, ...oneKey, rollout: { targets: [{ kind: 'Pod', name: 'p' }] } }, /spec\.rollout\.targets\[0\]\.kind/],
    ['rollout name and selector', { ...fromStore, ...oneKey, rollout: { targets: [{ kind: 'Deployment', name: 'a', selector: {} }] } }, /exactly one of name or selector/],
    ['unknown field', { ...fromStore, ...oneKey, bogus: true }, /\.spec\.bogus: field not declared in schema/],
    ['no store name', { secretStoreRef: {}, ...oneKey }, /spec\.secretStoreRef\.name/],
  ).map(([family, spec, message]) => rejected(family, spec, message)),
);

const invalidSpec = (family: string, spec: Record<string, unknown>, message: string) => ready(family, spec, ['InvalidSpec'], message);

/** Accepted by the API server, but cannot work: each must end with its own Ready=False reason. */
const operatorNearMiss: fc.Arbitrary<Case> = fc.oneof(
  fc.constantFrom('user.x', 'n.x', 'flag.x', 'nul.x', 'nested.missing', 'arr.5', 'nested.deep.x.y', 'nope').map((p) =>
    invalidSpec('property into a non-object', { data: [{ secretKey: 'v', remoteRef: { key: 'db/creds', property: p } }] }, `property '${p}'`)),
  fc.constantFrom('plain', 'list', 'num', 'null').map((k) =>
    invalidSpec('property of a non-object value', { data: [{ secretKey: 'v', remoteRef: { key: k, property: 'a' } }] }, `remote key '${k}' is not a JSON object`)),
  fc.constantFrom('plain', 'list', 'num', 'null').map((k) =>
    invalidSpec('extract of a non-object value', { dataFrom: [{ extract: { key: k } }] }, `remote key '${k}' is not a JSON object`)),
  fc.constantFrom('(', '[a-', '*x', 'a{2,1}', '(?<n>a)\\k<m>', '\\').map((re) =>
    invalidSpec('bad find regexp', { dataFrom: [{ find: { name: { regexp: re } } }] }, re)),
  fc.constantFrom('(', '[a-', '+', '(?<').map((re) =>
    invalidSpec('bad rewrite regexp', { dataFrom: [{ find: { path: 'api/' }, rewrite: [{ regexp: { source: re, target: '' } }] }] }, re)),
  fc.constantFrom('.', '..', '..data', '..x').map((k) =>
    invalidSpec('secretKey Kubernetes refuses', { data: [{ secretKey: k, remoteRef: { key: 'plain' } }] }, `'${k}'`)),
  fc.constant(invalidSpec('find without rewrite', { dataFrom: [{ find: { name: { regexp: '^team/' } } }] }, "'team/db'")),
  fc.constant(invalidSpec('extract of invalid key names', { dataFrom: [{ extract: { key: 'weird' } }] }, "'a b', 'x/y'")),
  fc.constantFrom('/', ' ', '$&/$&').map((t) =>
    invalidSpec('rewrite to an invalid key', { dataFrom: [{ find: { path: 'api/' }, rewrite: [{ regexp: { source: '^api/', target: t } }] }] }, 'not valid Secret keys')),
  fc.constantFrom('a {{ v', '{{#v}}open', 'x {{/nope}}', '{{=<% =}}', '{{{v}}', '{{^}}').map((t) =>
    invalidSpec('template that does not parse', { ...oneKey, target: { template: { data: { out: t } } } }, "template for key 'out'")),
  fc.constantFrom('bad/key', 'a b', '..').map((k) =>
    invalidSpec('template key Kubernetes refuses', { ...oneKey, target: { template: { data: { [k]: '{{ v }}' } } } }, k)),
  fc.constantFrom('nope', 'db', 'api/one/x').map((k) =>
    ready('missing remote key', { data: [{ secretKey: 'v', remoteRef: { key: k } }] }, ['RemoteSecretNotFound'], `remote key '${k}'`)),
  fc.constant(ready('missing version', { data: [{ secretKey: 'v', remoteRef: { key: 'versioned', version: '9' } }] }, ['RemoteSecretNotFound'], "version '9'")),
  fc.constantFrom('absent', 'x'.repeat(253)).map((name) =>
    ready('unknown store', { ...oneKey, secretStoreRef: { name } }, ['StoreNotFound'], name)),
  fc.constant(ready('unknown cluster store', { ...oneKey, secretStoreRef: { kind: 'ClusterSecretStore', name: 'absent-cluster-store' } }, ['StoreNotFound'], 'absent-cluster-store')),
  fc.constant(ready('invalid store', { ...oneKey, secretStoreRef: { name: DUP_STORE } }, ['StoreNotReady'], `'${DUP_STORE}'`)),
  fc.constant(ready('Merge into a missing Secret', { ...oneKey, target: { creationPolicy: 'Merge', name: 'absent-target' } }, ['TargetSecretMissing'], "'absent-target'")),
  fc.constantFrom(
    { type: 'kubernetes.io/tls' },
    { type: 'kubernetes.io/dockerconfigjson' },
    { metadata: { labels: { 'bad key!': 'v' } } },
    { metadata: { labels: { ok: 'x'.repeat(64) } } },
    { metadata: { annotations: { '/': 'v' } } },
  ).map((template) => ready('Secret the API server refuses', { ...oneKey, target: { template } }, ['SecretSyncError'], 'was refused')),
);

/** Accepted and valid, but odd: must sync, and must not spin. */
const oddButValid: fc.Arbitrary<Case> = fc.oneof(
  fc.constantFrom('1ms', '0.5ms', '0.0001ms', '99999999999999h', `1${'0'.repeat(400)}h`, '1h1h1h', '0.000001h').map((refreshInterval) =>
    ready('absurd refreshInterval', { ...oneKey, refreshInterval }, ['SecretSynced'])),
  // mustache.js renders a name the data lacks as "": synced, or InvalidSpec where templates check names.
  fc.constantFrom('{{ nothere }}', '{{ a.b.c }}', '{{> partial}}').map((t) =>
    ready('template naming missing keys', { ...oneKey, target: { template: { data: { out: t } } } }, ['SecretSynced', 'InvalidSpec'])),
  fc.integer({ min: 200, max: 1500 }).map((n) =>
    ready('many data entries', { data: Array.from({ length: n }, (_, i) => ({ secretKey: `k${i}`, remoteRef: GOOD_REFS[i % GOOD_REFS.length]?.[0] })) }, ['SecretSynced'], `(${n} keys)`)),
  fc.constant(ready('empty template type', { ...oneKey, target: { template: { type: '' } } }, ['SecretSynced', 'SecretSyncError'])),
);

const storeData = fc.array(
  fc.record({ key: fc.constantFrom('a', 'b', 'c/d', 'e'), value: fc.string({ minLength: 6, maxLength: 20 }), version: fc.option(fc.constantFrom('1', '2'), { nil: undefined }) }),
  { minLength: 0, maxLength: 5 },
);

function hasDuplicate(data: { key: string; version?: string }[]): boolean {
  const ids = data.map((d) => `${d.key}@${d.version ?? ''}`);
  return new Set(ids).size !== ids.length;
}

const storeCase = (kind: Case['kind'], family: string, spec: Record<string, unknown>, expect: Expect, values?: string[]): Case =>
  ({ family, kind, spec, expect, values });

/** SecretStore and ClusterSecretStore specs: valid (Valid or InvalidProviderConfig, by the model) and near misses. */
const storeSpecs: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(fc.constantFrom<Case['kind']>('SecretStore', 'ClusterSecretStore'), storeData, fc.constantFrom(undefined, '1h', '30s')).map(([kind, data, refreshInterval]) =>
    storeCase(kind, 'fake store', { provider: { fake: { data } }, ...(refreshInterval ? { refreshInterval } : {}) },
      hasDuplicate(data) ? { kind: 'ready', reasons: ['InvalidProviderConfig'], message: 'is listed twice' } : { kind: 'ready', reasons: ['Valid'] },
      data.map((d) => d.value))),
  fc.constantFrom<[string, Record<string, unknown>, RegExp]>(
    ['no provider', { provider: {} }, /spec\.provider/],
    ['two providers', { provider: { fake: { data: [] }, gcp: { projectID: 'p' } } }, /spec\.provider/],
    ['fake entry without value', { provider: { fake: { data: [{ key: 'k' }] } } }, /spec\.provider\.fake\.data\[0\]\.value/],
    ['fake entry with empty key', { provider: { fake: { data: [{ key: '', value: 'v' }] } } }, /spec\.provider\.fake\.data\[0\]\.key/],
    ['fake data not a list', { provider: { fake: { data: 'k=v' } } }, /spec\.provider\.fake\.data/],
    ['bad store refreshInterval', { provider: { fake: { data: [] } }, refreshInterval: '1 hour' }, /spec\.refreshInterval/],
    ['qps zero', { provider: { fake: { data: [] } }, rateLimit: { qps: 0, burst: 1 } }, /spec\.rateLimit\.qps/],
    ['burst fractional', { provider: { fake: { data: [] } }, rateLimit: { qps: 1, burst: 1.5 } }, /spec\.rateLimit\.burst/],
    ['burst missing', { provider: { fake: { data: [] } }, rateLimit: { qps: 1 } }, /spec\.rateLimit\.burst/],
    ['unknown provider', { provider: { nope: {} } }, /\.spec\.provider\.nope: field not declared in schema/],
    ['unknown fake field', { provider: { fake: { data: [], extra: 1 } } }, /\.spec\.provider\.fake\.extra: field not declared in schema/],
  ).map(([family, spec, message]) => storeCase('SecretStore', family, spec, { kind: 'rejected', message })),
  fc.constantFrom<[string, Record<string, unknown>, RegExp]>(
    ['empty condition', { provider: { fake: { data: [] } }, conditions: [{}] }, /spec\.conditions\[0\]/],
    ['bad namespace name', { provider: { fake: { data: [] } }, conditions: [{ namespaces: ['Bad_NS'] }] }, /spec\.conditions\[0\]\.namespaces\[0\]/],
    ['bad selector operator', { provider: { fake: { data: [] } }, conditions: [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Maybe' }] } }] }, /operator/],
  ).map(([family, spec, message]) => storeCase('ClusterSecretStore', family, spec, { kind: 'rejected', message })),
  fc.constant(storeCase('ClusterSecretStore', 'selector In without values', {
    provider: { fake: { data: [] } }, conditions: [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }],
  }, { kind: 'ready', reasons: ['Valid'] })),
);

/** One generated object: most are ExternalSecrets, a fifth are stores. */
export const anyCase: fc.Arbitrary<Case> = fc.oneof(
  { arbitrary: validExternalSecret, weight: 4 },
  { arbitrary: admissionNearMiss, weight: 4 },
  { arbitrary: operatorNearMiss, weight: 6 },
  { arbitrary: oddButValid, weight: 2 },
  { arbitrary: storeSpecs, weight: 4 },
);
