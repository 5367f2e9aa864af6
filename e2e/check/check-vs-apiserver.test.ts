// `lockstep check` judges a manifest's schema as the real API server does: for generated
// ExternalSecrets and stores (the bad-input fuzz's valid objects and near misses) and for check's
// own good and broken examples, `kubectl apply --dry-run=server --validate=strict` refuses exactly
// the documents check reports a schema error for. Operator-level problems (templates, regexps)
// are beyond admission; for those the test records how many of the objects the operator marks
// InvalidSpec check catches before they are applied.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { checkManifests, type Finding } from '../../src/check/check-manifests.js';
import { parseManifests } from '../../src/check/manifest-reader.js';
import { anyCase, DUP_STORE, FUZZ_STORE, type Case } from '../faults/bad-input-cases.js';
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster } from '../support/operator.js';

const SCHEMA_CODES = new Set(['schema', 'unknown-field', 'eso-field', 'api-version', 'kind', 'metadata']);
const SEED = 1313;

let cluster: TestCluster;
let ns: string;

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('check');
  await prepareCluster(cluster.kubeconfigPath, ns);
});
afterAll(async () => cluster.deleteNamespace(ns));

async function admitted(yaml: string): Promise<{ ok: boolean; message: string }> {
  try {
    await cluster.kubectl(['apply', '--dry-run=server', '--validate=strict', '-n', ns, '-f', '-'], yaml);
    return { ok: true, message: '' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

function checkOne(yaml: string): Finding[] {
  const externalStores = [`SecretStore/${FUZZ_STORE}`, `SecretStore/${DUP_STORE}`, 'ClusterSecretStore/fuzz'];
  return checkManifests([parseManifests('case.yaml', yaml)], { namespace: ns, externalStores });
}

const schemaErrors = (findings: Finding[]) => findings.filter((f) => f.severity === 'error' && SCHEMA_CODES.has(f.code));

function manifest(c: Case, i: number): string {
  const metadata = c.kind === 'ClusterSecretStore' ? { name: `check-${ns}-${i}` } : { name: `case-${i}`, namespace: ns };
  return stringify({ apiVersion: 'lockstep.dev/v1alpha1', kind: c.kind, metadata, spec: c.spec }, { aliasDuplicateObjects: false });
}

describe('lockstep check and the API server agree on the schema', () => {
  it('on 120 generated objects: refused at admission exactly when check reports a schema error', async () => {
    const cases = fc.sample(anyCase, { seed: SEED, numRuns: 120 });
    const disagreements: string[] = [];
    let refused = 0;
    let invalidSpec = 0;
    let invalidSpecCaught = 0;
    for (const [i, c] of cases.entries()) {
      const yaml = manifest(c, i);
      const findings = checkOne(yaml);
      const server = await admitted(yaml);
      const schema = schemaErrors(findings);
      if (!server.ok) refused++;
      if (server.ok === schema.length > 0) {
        disagreements.push(`${c.family}: server ${server.ok ? 'accepted' : `refused (${server.message})`}, check ${schema.length ? schema.map((f) => f.message).join('; ') : 'found no schema error'}\n${yaml}`);
      }
      if (server.ok && c.expect.kind === 'ready' && c.expect.reasons.length === 1 && c.expect.reasons[0] === 'InvalidSpec') {
        invalidSpec++;
        if (findings.some((f) => f.severity === 'error')) invalidSpecCaught++;
      }
    }
    console.log(`check vs apiserver: ${cases.length} objects, ${refused} refused at admission, ${disagreements.length} disagreements; ` +
      `of ${invalidSpec} admitted objects the operator marks InvalidSpec, check reports ${invalidSpecCaught} before they are applied`);
    expect(disagreements).toEqual([]);
    expect(refused).toBeGreaterThan(10);
    expect(refused).toBeLessThan(cases.length);
  });

  it("on check's own examples: each Lockstep document of the good file is admitted, each with a schema error is refused", async () => {
    const dir = join(import.meta.dirname, '../../src/check/testdata');
    for (const name of ['good.yaml', 'broken.yaml']) {
      const file = parseManifests(name, readFileSync(join(dir, name), 'utf8'));
      for (const doc of file.documents) {
        const obj = doc.object as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | undefined;
        if (!obj?.apiVersion?.startsWith('lockstep.dev/') || doc.errors.length > 0) continue;
        const yaml = String(doc.document).replace(/namespace: (team-[ab])/g, `namespace: ${ns}`).replace(/name: (shared|only-team-a)\b/g, `name: ${ns}-$1`);
        const schema = schemaErrors(checkManifests([parseManifests(name, yaml)], { namespace: ns }));
        const server = await admitted(yaml);
        expect({ doc: `${name}#${doc.index} ${obj.kind}/${obj.metadata?.name}`, admitted: server.ok }).toEqual({ doc: `${name}#${doc.index} ${obj.kind}/${obj.metadata?.name}`, admitted: schema.length === 0 });
      }
    }
  });
});
