// Measures `lockstep migrate` on External Secrets Operator's documentation examples (its
// docs/snippets folder, fetched by the person running this; nothing of it is kept in this repo):
// for the four providers Lockstep has, how many ESO objects convert into manifests Lockstep
// accepts (`lockstep check` finds no error), and what the others lack.
//   tsx e2e/migrate/eso-docs-corpus.ts DIR [--fill] [--verbose]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkManifests, type Finding } from '../../src/check/check-manifests.js';
import { parseManifests, type ManifestFile } from '../../src/check/manifest-reader.js';
import { asRecord } from '../../src/check/manifest-index.js';
import { migrateManifests, type ObjectReport } from '../../src/migrate/migrate-manifests.js';

const PROVIDERS = ['aws', 'gcpsm', 'azurekv', 'vault'];
/** Snippet files of the other providers and of features outside this measure (generators, PushSecret). */
const OTHER = /^(1password|akeyless|beyondtrust|bitwarden|chef|cloak|conjur|doppler|dvls|gitlab|github|ibm|infisical|keepersecurity|nebius|ngrok|onboardbase|oracle|passbolt|password-?depot|pulumi|senhasegura|volcengine|kyverno|generator|gitops|manifest|esoctl|cluster-external|fake-provider|controller-class)/;

export interface CorpusEntry {
  file: string;
  kind: string;
  name: string;
  provider?: string;
  outcome: ObjectReport['outcome'];
  unsupported: string[];
  errors: string[];
  /** The converted document's text. */
  converted: string;
}

function providerOf(doc: unknown): string | undefined {
  return Object.keys(asRecord(asRecord(asRecord(doc).spec).provider))[0];
}

/**
 * The snippets are wrapped in the docs site's `{% raw %}` lines, which are not YAML; some carry
 * placeholders that are not valid values (`projectID: [PROJECT_ID]` is a YAML list, GUIDs with
 * "xxxx"). `fill` replaces those placeholders with values of the right form.
 */
export function prepareSnippet(text: string, fill: boolean): string {
  let out = text.replace(/^\{%-? *(raw|endraw) *-?%\}[ \t]*$/gm, '');
  // Snippets written for Helm charts escape ESO's template from Helm; render those escapes the way
  // `helm template` would, since migrate reads rendered manifests.
  out = out.replace(/\{\{-? *(?:printf +)?(?:"((?:[^"\\]|\\.)*\{\{(?:[^"\\]|\\.)*)"|`([^`]*\{\{[^`]*)`) *-?\}\}/g, (_m, dq: string | undefined, bq: string | undefined) =>
    dq !== undefined ? dq.replace(/\\(.)/g, '$1') : (bq ?? ''),
  );
  if (fill) {
    out = out
      .replace(/\[PROJECT_ID\]/g, 'my-project-123')
      .replace(/\b([0-9a-f]{8})-xxxx-xxxx-xxxx-([0-9a-f]{12})\b/g, '$1-0000-0000-0000-$2');
  }
  return out;
}

/** Every ESO ExternalSecret and store of the four providers in DIR's *.yaml, converted and checked. */
export function measureCorpus(dir: string, fill = false): CorpusEntry[] {
  const entries: CorpusEntry[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !OTHER.test(f)).sort()) {
    const input: ManifestFile = parseManifests(file, prepareSnippet(readFileSync(join(dir, file), 'utf8'), fill));
    const [migrated] = migrateManifests([input]);
    const output = parseManifests(file, migrated?.text ?? '');
    input.documents.forEach((doc, i) => {
      const obj = asRecord(doc.object);
      const report = migrated?.objects.find((o) => o.line === doc.lineOf(['kind']));
      if (!report || !['ExternalSecret', 'SecretStore', 'ClusterSecretStore'].includes(report.kind)) return;
      const provider = report.kind === 'ExternalSecret' ? undefined : providerOf(obj);
      if (provider !== undefined && !PROVIDERS.includes(provider)) return;
      const out = output.documents[i];
      const single = out ? [{ source: file, text: '', documents: [out] }] : [];
      const errors = checkManifests(single).filter((f: Finding) => f.severity === 'error').map((f) => `${f.code}: ${f.message}`);
      entries.push({
        file,
        kind: report.kind,
        name: report.name,
        provider,
        outcome: report.outcome,
        unsupported: report.problems.filter((p) => p.level === 'unsupported').map((p) => `${p.field}: ${p.message}`),
        errors,
        converted: out?.document.toString() ?? '',
      });
    });
  }
  return entries;
}

export function summarize(entries: CorpusEntry[]): string {
  const lines: string[] = [];
  const group = (what: string, list: CorpusEntry[]) => {
    const accepted = list.filter((e) => e.errors.length === 0);
    const faithful = accepted.filter((e) => e.outcome === 'converted');
    lines.push(`${what}: ${list.length}; accepted by the CRDs after migrate: ${accepted.length}; of them converted with nothing left out: ${faithful.length}`);
  };
  group('ExternalSecrets', entries.filter((e) => e.kind === 'ExternalSecret'));
  group('stores', entries.filter((e) => e.kind !== 'ExternalSecret'));
  for (const p of PROVIDERS) group(`  stores ${p}`, entries.filter((e) => e.provider === p));
  const reasons = new Map<string, number>();
  for (const e of entries) {
    for (const u of new Set([...e.unsupported.map((x) => x.replace(/^[^:]*: /, '')), ...e.errors])) {
      const key = u.replace(/\[\d+\]/g, '[]');
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
  }
  lines.push('what the rest lack (objects):');
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) lines.push(`  ${n} × ${reason}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('eso-docs-corpus.ts')) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx e2e/migrate/eso-docs-corpus.ts DIR');
  const entries = measureCorpus(dir, process.argv.includes('--fill'));
  if (process.argv.includes('--verbose')) {
    for (const e of entries) if (e.errors.length || e.unsupported.length) console.log(`${e.file} ${e.kind}/${e.name}: ${[...e.unsupported, ...e.errors].join(' | ')}`);
  }
  console.log(summarize(entries));
}
