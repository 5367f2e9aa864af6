import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkManifests, parseField, type Finding } from './check-manifests.js';
import { parseManifests } from './manifest-reader.js';

const testdata = (name: string) => parseManifests(`testdata/${name}`, readFileSync(join(import.meta.dirname, 'testdata', name), 'utf8'));
const check = (text: string, options = {}) => checkManifests([parseManifests('m.yaml', text)], options);
const brief = (fs: Finding[]) => fs.map((f) => `${f.line} ${f.severity} ${f.code}${f.field ? ` ${f.field}` : ''}`);

const store = `apiVersion: lockstep.dev/v1alpha1
kind: SecretStore
metadata: { name: main, namespace: team-a }
spec:
  provider: { fake: { data: [ { key: db, value: '{"user":"u"}' } ] } }
`;
const es = (spec: string, ns = 'team-a') => `apiVersion: lockstep.dev/v1alpha1
kind: ExternalSecret
metadata: { name: app, namespace: ${ns} }
spec:
${spec}`;

describe('checkManifests on good manifests', () => {
  it('finds nothing in a consistent set (Namespace labels decide a namespaceSelector)', () => {
    expect(checkManifests([testdata('good.yaml')])).toEqual([]);
  });

  it('passes non-Lockstep documents and empty documents through', () => {
    expect(check('apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\nspec: { whatever: 1 }\n---\n---\n# only a comment\n')).toEqual([]);
  });

  it('accepts a template whose keys only dataFrom provides, with a note', () => {
    const fs = check(`${store}---\n${es(`  secretStoreRef: { name: main }
  target: { template: { data: { dsn: "{{ user }}@{{ host }}" } } }
  dataFrom: [ { extract: { key: db } } ]
`)}`);
    expect(brief(fs)).toEqual(['12 info template spec.target.template.data.dsn']);
    expect(fs[0]?.message).toContain("'user', 'host'");
  });
});

describe('checkManifests on broken manifests', () => {
  const findings = checkManifests([testdata('broken.yaml')]);

  it('reports each problem once, with its line, severity and code', () => {
    expect(brief(findings)).toEqual([
      '11 error eso-field spec.provider.vault.auth.iam',
      '17 error store-not-allowed spec.secretStoreRef.name',
      '18 error schema spec.refreshInterval',
      '19 error schema spec.target',
      '24 error template spec.target.template.data.url',
      '25 error template spec.target.template.data.broken',
      '28 error eso-field spec.data[0].remoteRef.nullBytePolicy',
      '30 error pattern spec.dataFrom[0].find.name.regexp',
      '31 error pattern spec.dataFrom[0].rewrite[0].regexp.source',
      '43 error credential-ref spec.provider.gcp.auth.secretRef.secretAccessKeySecretRef',
      '49 warning store-ref spec.secretStoreRef.name',
      '52 error unknown-field spec.extraField',
      '57 error schema spec',
      '61 error schema spec.target.template.data.bad/key',
      '61 error template spec.target.template.data.out',
      '64 error api-version apiVersion',
      '69 warning eso-manifest apiVersion',
      '77 error duplicate metadata.name',
      '82 error yaml',
    ]);
  });

  it('says what to do', () => {
    const byCode = (code: string) => findings.find((f) => f.code === code)?.message ?? '';
    expect(byCode('eso-field')).toContain('lockstep migrate');
    expect(byCode('eso-manifest')).toContain('lockstep migrate testdata/broken.yaml');
    expect(byCode('store-not-allowed')).toContain("does not allow namespace 'team-b'");
    expect(byCode('store-ref')).toContain('--external-store SecretStore/team-b/nowhere');
    expect(findings.find((f) => f.field === 'spec.target.template.data.url')?.message).toContain('not Go templates');
    expect(findings.find((f) => f.field === 'spec.target')?.message).toBe('spec.target: deletionPolicy Delete requires creationPolicy Owner or Orphan');
  });

  it('names the object of each finding', () => {
    expect(findings.find((f) => f.code === 'pattern')).toMatchObject({ kind: 'ExternalSecret', namespace: 'team-b', name: 'app', source: 'testdata/broken.yaml' });
  });
});

describe('store references', () => {
  const ref = (name: string, kind = 'SecretStore') => es(`  secretStoreRef: { name: ${name}, kind: ${kind} }\n  data: [ { secretKey: a, remoteRef: { key: db } } ]\n`);

  it('resolves a SecretStore only in the ExternalSecret namespace', () => {
    expect(check(`${store}---\n${ref('main')}`)).toEqual([]);
    const fs = check(`${store}---\n${es('  secretStoreRef: { name: main }\n  data: [ { secretKey: a, remoteRef: { key: db } } ]\n', 'team-b')}`);
    expect(brief(fs)).toEqual(['11 error store-ref spec.secretStoreRef.name']);
    expect(fs[0]?.message).toContain('serves only its own namespace');
  });

  it('uses --namespace for objects that name none', () => {
    const bare = (kind: string) => `apiVersion: lockstep.dev/v1alpha1\nkind: ${kind}\nmetadata: { name: main }\nspec:\n`;
    const text = `${bare('SecretStore')}  provider: { fake: { data: [] } }\n---\n${bare('ExternalSecret')}  secretStoreRef: { name: main }\n  data: [ { secretKey: a, remoteRef: { key: db } } ]\n`;
    expect(check(text)).toEqual([]);
    expect(check(text, { namespace: 'x' })).toEqual([]);
  });

  it('takes stores declared external', () => {
    expect(brief(check(ref('elsewhere')))).toEqual(['5 warning store-ref spec.secretStoreRef.name']);
    expect(check(ref('elsewhere'), { externalStores: ['SecretStore/elsewhere'] })).toEqual([]);
    expect(check(ref('elsewhere'), { externalStores: ['team-a/elsewhere'] })).toEqual([]);
    expect(check(ref('shared', 'ClusterSecretStore'), { externalStores: ['ClusterSecretStore/shared'] })).toEqual([]);
    expect(check(ref('shared', 'ClusterSecretStore'), { externalStores: ['SecretStore/shared'] })).toHaveLength(1);
  });

  it('judges ClusterSecretStore conditions: by name, by the labels of a Namespace in the files, or notes what it cannot know', () => {
    const css = (conditions: string) => `apiVersion: lockstep.dev/v1alpha1
kind: ClusterSecretStore
metadata: { name: shared }
spec:
  conditions: ${conditions}
  provider: { fake: { data: [] } }
---
`;
    const user = ref('shared', 'ClusterSecretStore');
    expect(check(css('[ { namespaces: [team-a] } ]') + user)).toEqual([]);
    expect(brief(check(css('[ { namespaces: [team-b] } ]') + user))).toEqual(['12 error store-not-allowed spec.secretStoreRef.name']);
    const selector = css('[ { namespaceSelector: { matchLabels: { tier: gold } } } ]');
    expect(brief(check(selector + user))).toEqual(['12 info store-not-allowed spec.secretStoreRef.name']);
    const namespace = (tier: string) => `apiVersion: v1\nkind: Namespace\nmetadata: { name: team-a, labels: { tier: ${tier} } }\n---\n`;
    expect(check(namespace('gold') + selector + user)).toEqual([]);
    expect(brief(check(namespace('iron') + selector + user))).toEqual(['16 error store-not-allowed spec.secretStoreRef.name']);
    expect(check(css('[ { namespaceRegexes: ["^team-"] } ]') + user)).toEqual([]);
    expect(brief(check(css('[ { namespaceRegexes: ["^ops-"] } ]') + user))).toEqual(['12 error store-not-allowed spec.secretStoreRef.name']);
    expect(brief(check(css('[ { namespaceRegexes: ["(?=x)"] } ]') + user))).toEqual(['5 error pattern spec.conditions[0].namespaceRegexes[0]', '12 error store-not-allowed spec.secretStoreRef.name']);
  });

  it('reports two ExternalSecrets writing one Secret', () => {
    const two = `${store}---\n${ref('main')}---\n${ref('main').replace('name: app', 'name: other').replace('spec:\n', 'spec:\n  target: { name: app }\n')}`;
    expect(brief(check(two))).toEqual(['18 error target-clash spec.target.name']);
  });
});

describe('parseField', () => {
  it('splits a dotted field with indexes', () => {
    expect(parseField('dataFrom[0].rewrite[12].regexp.source')).toEqual(['dataFrom', 0, 'rewrite', 12, 'regexp', 'source']);
  });
});

describe('YAML as kubectl reads it', () => {
  it('takes y/n/yes/no/on/off as booleans (YAML 1.1), so check sees what the API server will', () => {
    const fs = check(`${store}---\n${es('  secretStoreRef: { name: main }\n  data: [ { secretKey: a, remoteRef: { key: db, property: n } } ]\n')}`);
    expect(brief(fs)).toEqual(['12 error schema spec.data[0].remoteRef.property']);
    expect(fs[0]?.message).toContain('must be a string, not boolean');
    expect(check(`${store}---\n${es('  secretStoreRef: { name: main }\n  data: [ { secretKey: a, remoteRef: { key: db, property: "n" } } ]\n')}`)).toEqual([]);
  });

  it('keeps 1:30, dates, ".", "e5" and ".e5" as strings, as go-yaml does', () => {
    expect(check(`${store}---\n${es('  secretStoreRef: { name: main }\n  data: [ { secretKey: a, remoteRef: { key: 2024-01-01, version: 1:30 } } ]\n')}`)).toEqual([]);
    const keys = check(`${store}---\n${es('  secretStoreRef: { name: main }\n  data: [ { secretKey: e5, remoteRef: { key: ".e5" } }, { secretKey: x, remoteRef: { key: . } } ]\n')}`);
    expect(keys).toEqual([]);
    expect(brief(check(`${store}---\n${es('  secretStoreRef: { name: main }\n  data: [ { secretKey: 1.5e3, remoteRef: { key: k } } ]\n')}`))).toEqual(['12 error schema spec.data[0].secretKey']);
  });
});

describe('checkManifests on Vault client certificates', () => {
  const vault = (server: string, extra: string) => `apiVersion: lockstep.dev/v1alpha1
kind: SecretStore
metadata: { name: v, namespace: team-a }
spec:
  provider:
    vault:
      server: ${server}
      path: secret
${extra}`;
  const tls = '      tls: { certSecretRef: { name: client, key: tls.crt }, keySecretRef: { name: client, key: tls.key } }\n';
  const token = '      auth: { tokenSecretRef: { name: t, key: token } }\n';
  const cert = '      auth: { cert: { clientCert: { name: c, key: tls.crt }, secretRef: { name: c, key: tls.key } } }\n';

  it('accepts tls and auth.cert over https', () => {
    expect(check(vault('https://vault:8200', tls + token))).toEqual([]);
    expect(check(vault('https://vault:8200', cert))).toEqual([]);
  });

  it('refuses tls and auth.cert over plain http, as the operator would', () => {
    expect(brief(check(vault('http://vault:8200', tls + token)))).toEqual(['9 error provider-config spec.provider.vault.tls']);
    const fs = check(vault('http://vault:8200', cert));
    expect(brief(fs)).toEqual(['9 error provider-config spec.provider.vault.auth.cert']);
    expect(fs[0]?.message).toBe("spec.provider.vault.auth.cert needs an https server: the client certificate is presented in the TLS handshake (server is 'http://vault:8200')");
  });

  it('checks the namespace of the tls Secrets like every credential reference', () => {
    const other = '      tls: { certSecretRef: { name: client, key: tls.crt, namespace: ops }, keySecretRef: { name: client, key: tls.key } }\n';
    expect(brief(check(vault('https://vault:8200', other + token)))).toEqual(['9 error credential-ref spec.provider.vault.tls.certSecretRef.namespace']);
  });
});
