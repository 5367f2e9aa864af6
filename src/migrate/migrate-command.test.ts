import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrateCommand } from './migrate-command.js';

const helm = join(import.meta.dirname, 'testdata', 'helm-rendered.yaml');

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const written = new Map<string, string>();
  const code = await runMigrateCommand(args, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    write: async (path, text) => {
      written.set(path, text);
    },
  });
  return { code, out, err, written };
}

describe('lockstep migrate', () => {
  it('prints the converted YAML and the report; exit 0 when everything converted', async () => {
    const r = await run(helm);
    expect(r.code).toBe(0);
    expect(r.out).toContain('apiVersion: lockstep.dev/v1alpha1');
    expect(r.err).toMatch(/helm-rendered\.yaml:13: SecretStore billing\/vault: converted/);
    expect(r.err).toMatch(/2 ESO object\(s\) in 1 file\(s\): 2 converted, 0 partly converted, 0 left as they were/);
  });

  it('exits 1 and lists what could not be converted, with lines; --report json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-'));
    const file = join(dir, 'es.yaml');
    writeFileSync(file, 'apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: { name: a }\nspec:\n  secretStoreRef: { name: s }\n  data: [ { secretKey: k, remoteRef: { key: r, nullBytePolicy: Fail } } ]\n');
    const text = await run(file);
    expect(text.code).toBe(1);
    expect(text.err).toMatch(/es\.yaml:6: unsupported: spec\.data\[0\]\.remoteRef\.nullBytePolicy: nullBytePolicy Fail/);
    const json = await run('--report', 'json', file);
    const report = JSON.parse(json.err) as { files: { objects: { outcome: string; problems: { line: number; level: string }[] }[] }[] };
    expect(report.files[0]?.objects[0]).toMatchObject({ outcome: 'partial', problems: [{ line: 6, level: 'unsupported' }] });
  });

  it('rewrites files in place, or writes them under --out-dir', async () => {
    const inPlace = await run('-w', helm);
    expect([...inPlace.written.keys()]).toEqual([expect.stringMatching(/helm-rendered\.yaml$/)]);
    expect(inPlace.out).toBe('');
    const outDir = await run('--out-dir', '/out', helm);
    expect([...outDir.written.keys()]).toEqual([expect.stringMatching(/^\/out\/.*helm-rendered\.yaml$/)]);
    expect(outDir.written.values().next().value).toBe(inPlace.written.values().next().value);
    expect(readFileSync(helm, 'utf8')).toContain('external-secrets.io'); // the test's io never wrote the real file
  });

  it('exits 2 on usage errors, unreadable input and YAML errors', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('-w', '--out-dir', 'x', helm)).code).toBe(2);
    expect((await run('--gke-cluster', 'only-two/parts', helm)).code).toBe(2);
    expect((await run('--target-suffix', 'Bad_Suffix', helm)).code).toBe(2);
    expect((await run('/nonexistent.yaml')).code).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'migrate-'));
    writeFileSync(join(dir, 'bad.yaml'), 'a: [unclosed\n');
    const bad = await run(join(dir, 'bad.yaml'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('bad.yaml:');
  });
});
