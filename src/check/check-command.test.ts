import { join } from 'node:path';
import { runCheckCommand } from './check-command.js';

const testdata = (name: string) => join(import.meta.dirname, 'testdata', name);

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCheckCommand(args, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

describe('lockstep check', () => {
  it('exits 0 on good manifests and prints a summary', async () => {
    const { code, out } = await run(testdata('good.yaml'));
    expect(code).toBe(0);
    expect(out).toBe('1 file(s), 3 document(s): 0 error(s), 0 warning(s), 0 note(s)\n');
  });

  it('exits 1 on errors, with file:line lines', async () => {
    const { code, out } = await run(testdata('broken.yaml'));
    expect(code).toBe(1);
    expect(out).toMatch(/broken\.yaml:18: error \[schema\] ExternalSecret team-b\/app: spec\.refreshInterval/);
  });

  it('prints one JSON object with --output json', async () => {
    const { code, out } = await run('-o', 'json', testdata('broken.yaml'));
    expect(code).toBe(1);
    const result = JSON.parse(out) as { files: number; counts: Record<string, number>; findings: { line: number; code: string }[] };
    expect(result.files).toBe(1);
    expect(result.counts).toEqual({ error: 17, warning: 2, info: 0 });
    expect(result.findings[0]).toMatchObject({ line: 11, code: 'eso-field', severity: 'error', kind: 'SecretStore' });
  });

  it('reads a directory; --fail-on warning fails on warnings alone', async () => {
    const dir = join(import.meta.dirname, 'testdata');
    expect((await run(dir)).out).toContain('3 file(s)');
    const file = testdata('external-store.yaml');
    expect((await run(file)).code).toBe(0);
    expect((await run('--fail-on', 'warning', file)).code).toBe(1);
    expect((await run('--fail-on', 'warning', '--external-store', 'SecretStore/vault', file)).code).toBe(0);
  });

  it('exits 2 on usage errors and unreadable input', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('--output', 'xml', testdata('good.yaml'))).code).toBe(2);
    const missing = await run('/nonexistent/file.yaml');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no such file');
  });
});

describe('lockstep check on hostile YAML', () => {
  it('reports a document whose aliases expand too far as a YAML error instead of crashing', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'check-'));
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    writeFileSync(join(dir, 'laughs.yaml'), `${levels.join('\n')}\n`);
    const r = await run(join(dir, 'laughs.yaml'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/laughs\.yaml:1: error \[yaml\]/);
  });
});
