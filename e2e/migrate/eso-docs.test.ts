// ESO's documentation examples, migrated, against the real API server. Runs only when ESO_DOCS_DIR
// names a checkout of ESO's docs/snippets (nothing of it is kept in this repository):
//   ESO_DOCS_DIR=/path/to/external-secrets/docs/snippets make test-e2e JEST_ARGS='--testPathPatterns e2e/migrate/eso-docs'
// Every converted object that `lockstep check` accepts must be admitted by
// `kubectl apply --dry-run=server --validate=strict`, and every one it refuses must be refused.
import { parseAllDocuments, stringify } from 'yaml';
import { loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { prepareCluster } from '../support/operator.js';
import { measureCorpus, summarize } from './eso-docs-corpus.js';

const dir = process.env.ESO_DOCS_DIR;
const maybe = dir ? describe : describe.skip;

let cluster: TestCluster;
let ns: string;

maybe('ESO documentation examples after lockstep migrate', () => {
  beforeAll(async () => {
    cluster = loadTestCluster();
    ns = await cluster.createNamespace('eso-docs');
    await prepareCluster(cluster.kubeconfigPath, ns);
  });
  afterAll(async () => cluster.deleteNamespace(ns));

  it('are admitted by the API server exactly when lockstep check accepts them', async () => {
    const entries = measureCorpus(dir as string, true);
    const disagreements: string[] = [];
    let admittedCount = 0;
    for (const e of entries) {
      const [doc] = parseAllDocuments(e.converted);
      const obj = doc?.toJS() as { metadata?: Record<string, unknown> } | undefined;
      if (!obj?.metadata) continue;
      delete obj.metadata.namespace;
      let admitted = true;
      let message = '';
      try {
        await cluster.kubectl(['apply', '--dry-run=server', '--validate=strict', '-n', ns, '-f', '-'], stringify(obj));
      } catch (err) {
        admitted = false;
        message = (err as Error).message;
      }
      if (admitted) admittedCount++;
      if (admitted !== (e.errors.length === 0)) disagreements.push(`${e.file} ${e.kind}/${e.name}: server ${admitted ? 'admitted' : `refused: ${message}`}; check: ${e.errors.join('; ') || 'ok'}`);
    }
    console.log(`${summarize(entries)}\nadmitted by kubectl apply --dry-run=server: ${admittedCount} of ${entries.length}`);
    expect(disagreements).toEqual([]);
  });
});
