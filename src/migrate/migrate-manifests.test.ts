import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { checkManifests } from '../check/check-manifests.js';
import { parseManifests } from '../check/manifest-reader.js';
import { migrateManifests } from './migrate-manifests.js';

const helm = readFileSync(join(import.meta.dirname, 'testdata', 'helm-rendered.yaml'), 'utf8');
const [migrated] = migrateManifests([parseManifests('helm-rendered.yaml', helm)]);
const text = migrated?.text ?? '';
const docs = (t: string) => t.split(/^(?=---$)/m);

describe('migrateManifests on helm template output', () => {
  it('converts the ESO objects and reports each with its line', () => {
    expect(migrated?.objects.map((o) => [o.kind, o.name, o.line, o.outcome])).toEqual([
      ['SecretStore', 'vault', 13, 'converted'],
      ['ExternalSecret', 'billing-db', 39, 'converted'],
    ]);
    expect(migrated?.objects[0]?.problems).toEqual([{ level: 'dropped', field: 'spec.refreshInterval', line: 23, message: expect.stringContaining('re-validated') }]);
  });

  it('keeps the other documents byte for byte, and the document order', () => {
    const before = docs(helm);
    const after = docs(text);
    expect(after).toHaveLength(before.length);
    expect(after[0]).toBe(before[0]);
    expect(after[3]).toBe(before[3]);
    expect(parseAllDocuments(text).map((d) => (d.toJS() as { kind: string }).kind)).toEqual(['ServiceAccount', 'SecretStore', 'ExternalSecret', 'Deployment']);
  });

  it('keeps names, namespaces, labels, annotations, comments and the file\'s list style', () => {
    const store = docs(text)[1] ?? '';
    expect(store).toContain('# Source: billing/templates/secretstore.yaml');
    expect(store).toContain('name: vault # the team\'s Vault');
    expect(store).toContain('# logs in as the billing ServiceAccount');
    expect(store).toContain('meta.helm.sh/release-name: billing');
    expect(store).toContain('apiVersion: lockstep.dev/v1alpha1');
    const es = docs(text)[2] ?? '';
    expect(es).toContain('# the DSN the app reads');
    expect(es).toMatch(/\n  data:\n  - secretKey: username\n/);
    expect(es).toContain('DATABASE_URL: "postgres://{{ username }}:{{ password }}@db.billing:5432/billing?sslmode={{#sslmode}}{{ sslmode }}{{/sslmode}}{{^sslmode}}require{{/sslmode}}"');
    expect(es).not.toContain('engineVersion');
    expect(es).not.toContain('conversionStrategy');
  });

  it('yields manifests `lockstep check` accepts', () => {
    expect(checkManifests([parseManifests('out.yaml', text)])).toEqual([]);
  });

  it('leaves a file without ESO objects exactly as it was', () => {
    const plain = '# just a comment\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: "1"}\n';
    const [file] = migrateManifests([parseManifests('p.yaml', plain)]);
    expect(file).toMatchObject({ text: plain, changed: false, objects: [] });
  });

  it('leaves kinds Lockstep lacks as they were, reported as skipped', () => {
    const push = 'apiVersion: external-secrets.io/v1alpha1\nkind: PushSecret\nmetadata: {name: p}\nspec: {}\n';
    const [file] = migrateManifests([parseManifests('p.yaml', push)]);
    expect(file?.text).toBe(push);
    expect(file?.objects).toEqual([expect.objectContaining({ kind: 'PushSecret', outcome: 'skipped' })]);
  });
});

describe('side by side with ESO (--target-suffix)', () => {
  it("makes each ExternalSecret write its Secret's name plus the suffix", () => {
    const [file] = migrateManifests([parseManifests('h.yaml', helm)], { targetSuffix: '-lockstep' });
    const es = parseAllDocuments(file?.text ?? '').map((d) => d.toJS() as { kind: string; spec: { target?: { name?: string } } }).filter((d) => d.kind === 'ExternalSecret');
    expect(es.map((d) => d.spec.target?.name)).toEqual(['billing-db-lockstep']);
    expect(file?.objects[1]?.problems).toContainEqual(expect.objectContaining({ level: 'note', field: 'spec.target.name' }));
    const bare = 'apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: { name: api }\nspec:\n  secretStoreRef: { name: s }\n  data: [ { secretKey: a, remoteRef: { key: k } } ]\n';
    const [second] = migrateManifests([parseManifests('b.yaml', bare)], { targetSuffix: '-lockstep' });
    expect(second?.text).toContain('target:\n    name: api-lockstep');
  });
});
