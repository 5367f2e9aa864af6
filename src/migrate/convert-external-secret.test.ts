import { parse } from 'yaml';
import { checkManifests } from '../check/check-manifests.js';
import { parseManifests } from '../check/manifest-reader.js';
import { convertDuration } from './convert-external-secret.js';
import { migrateManifests } from './migrate-manifests.js';

function migrate(text: string) {
  const [file] = migrateManifests([parseManifests('in.yaml', text)]);
  if (!file) throw new Error('no output');
  const [object] = file.objects;
  const errors = checkManifests([parseManifests('out.yaml', file.text)]).filter((f) => f.severity === 'error');
  return { text: file.text, out: parse(file.text) as { apiVersion: string; spec: Record<string, unknown> }, object, errors };
}
const problems = (r: ReturnType<typeof migrate>) => r.object?.problems.map((p) => `${p.level} ${p.field}`) ?? [];

const es = (spec: string, apiVersion = 'external-secrets.io/v1') => `apiVersion: ${apiVersion}
kind: ExternalSecret
metadata: { name: app, namespace: team-a }
spec:
  secretStoreRef: { name: vault, kind: SecretStore }
${spec}`;

describe('ExternalSecret conversion rules', () => {
  it('keeps the fields that mean the same and changes only apiVersion', () => {
    const r = migrate(es(`  refreshInterval: 15m
  refreshPolicy: Periodic
  target: { name: creds, creationPolicy: Owner, deletionPolicy: Retain, immutable: false }
  data:
    - secretKey: password
      remoteRef: { key: db, property: password, version: "2" }
`));
    expect(r.out.apiVersion).toBe('lockstep.dev/v1alpha1');
    expect(r.out.spec).toEqual({
      secretStoreRef: { name: 'vault', kind: 'SecretStore' },
      refreshInterval: '15m',
      refreshPolicy: 'Periodic',
      target: { name: 'creds', creationPolicy: 'Owner', deletionPolicy: 'Retain', immutable: false },
      data: [{ secretKey: 'password', remoteRef: { key: 'db', property: 'password', version: '2' } }],
    });
    expect(r.object?.outcome).toBe('converted');
    expect(r.errors).toEqual([]);
  });

  it.each(['v1beta1', 'v1'])('reads external-secrets.io/%s', (v) => {
    expect(migrate(es('  data: [ { secretKey: a, remoteRef: { key: k } } ]\n', `external-secrets.io/${v}`)).object?.outcome).toBe('converted');
  });

  it('turns a v1alpha1 dataFrom entry (a bare remoteRef) into extract', () => {
    const r = migrate(es('  dataFrom: [ { key: db, version: "1" } ]\n', 'external-secrets.io/v1alpha1'));
    expect(r.out.spec.dataFrom).toEqual([{ extract: { key: 'db', version: '1', conversionStrategy: 'Default' } }]);
  });

  it('normalises Go durations', () => {
    expect(convertDuration('1h0m0s')).toBe('1h0m0s');
    expect(convertDuration('0')).toBe('0');
    expect(convertDuration('1500us')).toBe('2ms');
    expect(convertDuration('1d')).toBeUndefined();
    const r = migrate(es('  refreshInterval: 90000000ns\n  data: [ { secretKey: a, remoteRef: { key: k } } ]\n'));
    expect(r.out.spec.refreshInterval).toBe('90ms');
    expect(problems(r)).toEqual(['review spec.refreshInterval']);
  });

  it('converts Go templates to Mustache and drops engineVersion', () => {
    const r = migrate(es(`  target:
    template:
      engineVersion: v2
      type: kubernetes.io/basic-auth
      mergePolicy: Replace
      metadata: { labels: { app: web }, annotations: { a: b } }
      data:
        username: "{{ .user | toString }}"
        url: "postgres://{{ .user }}:{{ index . \\"pass.word\\" }}@db"
  data:
    - { secretKey: user, remoteRef: { key: db, property: user } }
    - { secretKey: pass.word, remoteRef: { key: db, property: password } }
`));
    expect(r.out.spec.target).toEqual({
      template: {
        type: 'kubernetes.io/basic-auth',
        mergePolicy: 'Replace',
        metadata: { labels: { app: 'web' }, annotations: { a: 'b' } },
        data: { username: '{{ user }}', url: 'postgres://{{ user }}:{{ pass.word }}@db' },
      },
    });
    expect(problems(r)).toEqual(['dropped spec.target.template.engineVersion']);
    expect(r.errors).toEqual([]);
  });

  it("writes out ESO's default mergePolicy Replace for a template with data (Lockstep's default is Merge)", () => {
    const r = migrate(es('  target: { template: { data: { a: "{{ .k }}" } } }\n  data: [ { secretKey: k, remoteRef: { key: k } } ]\n'));
    expect(r.out.spec.target).toEqual({ template: { data: { a: '{{ k }}' }, mergePolicy: 'Replace' } });
    expect(problems(r)).toEqual(['note spec.target.template.mergePolicy']);
    const noData = migrate(es('  target: { template: { type: kubernetes.io/tls } }\n  data: [ { secretKey: k, remoteRef: { key: k } } ]\n'));
    expect(noData.out.spec.target).toEqual({ template: { type: 'kubernetes.io/tls' } });
  });

  it('removes a template it cannot convert and says why, on its line', () => {
    const r = migrate(es(`  target:
    template:
      data:
        ok: "{{ .a }}"
        cert: "{{ .p12 | pkcs12cert }}"
  data: [ { secretKey: a, remoteRef: { key: k } } ]
`));
    expect(r.object?.outcome).toBe('partial');
    expect(r.object?.problems.filter((p) => p.level === 'unsupported')).toEqual([{ level: 'unsupported', field: 'spec.target.template.data.cert', line: 10, message: expect.stringContaining("'pkcs12cert'") }]);
    expect((r.out.spec.target as { template: { data: unknown } }).template.data).toEqual({ ok: '{{ a }}' });
  });

  it.each([
    ['templateFrom', '  target: { template: { templateFrom: [ { configMap: { name: t, items: [ { key: k } ] } } ] } }\n', 'spec.target.template.templateFrom'],
    ['template.literal', '  target: { template: { literal: "{{ .a }}" } }\n', 'spec.target.template.literal'],
    ['sourceRef on data', '  data: [ { secretKey: a, sourceRef: { generatorRef: { kind: Password, name: p } }, remoteRef: { key: k } } ]\n', 'spec.data[0].sourceRef'],
    ['metadataPolicy Fetch on find', '  dataFrom: [ { find: { name: { regexp: x }, metadataPolicy: Fetch } } ]\n', 'spec.dataFrom[0].find.metadataPolicy'],
    ['nullBytePolicy Fail', '  data: [ { secretKey: a, remoteRef: { key: k, nullBytePolicy: Fail } } ]\n', 'spec.data[0].remoteRef.nullBytePolicy'],
    ['rewrite.transform', '  dataFrom: [ { extract: { key: k }, rewrite: [ { transform: { template: "x" } } ] } ]\n', 'spec.dataFrom[0].rewrite[0].transform'],
  ])('reports %s as unsupported and removes it', (_what, spec, field) => {
    const r = migrate(es(spec.includes('data:') || spec.includes('dataFrom') ? spec : `${spec}  data: [ { secretKey: a, remoteRef: { key: k } } ]\n`));
    expect(r.object?.outcome).toBe('partial');
    expect(problems(r)).toContain(`unsupported ${field}`);
    expect(r.text).not.toMatch(new RegExp(`\\b${field.split('.').pop()?.replace(/\[\d+\]/, '')}:`));
  });

  it('keeps rewrite.merge (ESO spelling), dropping the empty into ESO defaults to', () => {
    const r = migrate(es(`  dataFrom:
    - find: { path: app/, name: { regexp: "-credentials$" } }
      rewrite:
        - merge: { into: "", conflictPolicy: Ignore, priority: [app/b-credentials], priorityPolicy: IgnoreNotFound, strategy: Extract }
        - regexp: { source: "^db_", target: "" }
    - extract: { key: a }
      rewrite: [ { merge: { strategy: JSON, into: all.json } } ]
`));
    expect(r.out.spec.dataFrom).toEqual([
      {
        find: { path: 'app/', name: { regexp: '-credentials$' } },
        rewrite: [
          { merge: { conflictPolicy: 'Ignore', priority: ['app/b-credentials'], priorityPolicy: 'IgnoreNotFound', strategy: 'Extract' } },
          { regexp: { source: '^db_', target: '' } },
        ],
      },
      { extract: { key: 'a' }, rewrite: [{ merge: { strategy: 'JSON', into: 'all.json' } }] },
    ]);
    expect(problems(r)).toEqual(['dropped spec.dataFrom[0].rewrite[0].merge.into']);
    expect(r.errors).toEqual([]);
  });

  it('drops the strategy fields that state Lockstep behaviour', () => {
    const r = migrate(es('  data: [ { secretKey: a, remoteRef: { key: k, decodingStrategy: None, metadataPolicy: None, nullBytePolicy: Ignore } } ]\n'));
    expect(r.object?.outcome).toBe('converted');
    expect(r.out.spec.data).toEqual([{ secretKey: 'a', remoteRef: { key: 'k' } }]);
  });

  it('keeps metadataPolicy Fetch on data and extract', () => {
    const r = migrate(es(`  data: [ { secretKey: owner, remoteRef: { key: k, property: owner, metadataPolicy: Fetch } } ]
  dataFrom: [ { extract: { key: k, metadataPolicy: Fetch } } ]
`));
    expect(r.out.spec.data).toEqual([{ secretKey: 'owner', remoteRef: { key: 'k', property: 'owner', metadataPolicy: 'Fetch' } }]);
    // ESO converts the keys extract produces by default (tag keys such as app.kubernetes.io/name hold a '/').
    expect(r.out.spec.dataFrom).toEqual([{ extract: { key: 'k', metadataPolicy: 'Fetch', conversionStrategy: 'Default' } }]);
    expect(problems(r).filter((p) => p.includes('metadataPolicy'))).toEqual([]);
    expect(r.object?.outcome).toBe('converted');
    expect(r.errors).toEqual([]);
  });

  it('keeps decodingStrategy, and conversionStrategy where it means something', () => {
    const r = migrate(es(`  data: [ { secretKey: a, remoteRef: { key: k, decodingStrategy: Base64, conversionStrategy: Unicode } } ]
  dataFrom:
    - extract: { key: j, decodingStrategy: Auto, conversionStrategy: Unicode }
    - find: { name: { regexp: "^x" }, decodingStrategy: Base64URL, conversionStrategy: Default }
      rewrite: [ { regexp: { source: "^x/(.*)", target: "$1" } } ]
`));
    expect(r.out.spec.data).toEqual([{ secretKey: 'a', remoteRef: { key: 'k', decodingStrategy: 'Base64' } }]);
    expect(r.out.spec.dataFrom).toEqual([
      { extract: { key: 'j', decodingStrategy: 'Auto', conversionStrategy: 'Unicode' } },
      { find: { name: { regexp: '^x' }, decodingStrategy: 'Base64URL' }, rewrite: [{ regexp: { source: '^x/(.*)', target: '$1' } }] },
    ]);
    expect(problems(r)).toEqual(['dropped spec.data[0].remoteRef.conversionStrategy', 'dropped spec.dataFrom[1].find.conversionStrategy']);
    expect(r.object?.outcome).toBe('converted');
    expect(r.errors).toEqual([]);
  });

  it("writes out ESO's default key conversion for extract and find without rewrite", () => {
    const r = migrate(es(`  dataFrom:
    - find: { path: app/, name: { regexp: "^app/" }, tags: { team: a } }
    - extract: { key: cfg }
    - find: { name: { regexp: "^x" } }
      rewrite: [ { regexp: { source: "^x/(.*)", target: "$1" } } ]
`));
    expect(r.out.spec.dataFrom).toEqual([
      { find: { path: 'app/', name: { regexp: '^app/' }, tags: { team: 'a' }, conversionStrategy: 'Default' } },
      { extract: { key: 'cfg', conversionStrategy: 'Default' } },
      { find: { name: { regexp: '^x' } }, rewrite: [{ regexp: { source: '^x/(.*)', target: '$1' } }] },
    ]);
    expect(problems(r)).toEqual(['note spec.dataFrom[0].find.conversionStrategy', 'note spec.dataFrom[1].extract.conversionStrategy']);
    expect(r.errors).toEqual([]);
  });

  it('reports an ExternalSecret without secretStoreRef', () => {
    const r = migrate('apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: { name: x }\nspec:\n  data: [ { secretKey: a, sourceRef: { storeRef: { name: s } }, remoteRef: { key: k } } ]\n');
    expect(problems(r)).toEqual(['unsupported spec.secretStoreRef', 'unsupported spec.data[0].sourceRef']);
  });
});
