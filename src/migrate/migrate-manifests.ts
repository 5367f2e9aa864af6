/**
 * `lockstep migrate`: converts the ESO objects of each file in place (apiVersion, kind-specific
 * fields) and leaves every other document as it was, byte for byte. Pure: files in, text and a
 * per-object report out.
 */
import { API_VERSION } from '../api/constants.js';
import { isEsoApiVersion } from '../check/eso-fields.js';
import { asRecord } from '../check/manifest-index.js';
import type { ManifestDocument, ManifestFile } from '../check/manifest-reader.js';
import { convertExternalSecret } from './convert-external-secret.js';
import { convertStore } from './convert-store.js';
import { ObjectMigration, type MigrationProblem } from './object-migration.js';

export interface ObjectReport {
  source: string;
  line: number;
  kind: string;
  name: string;
  namespace?: string;
  /** converted: faithful; partial: converted with unsupported parts removed; skipped: a kind Lockstep lacks, left as it was. */
  outcome: 'converted' | 'partial' | 'skipped';
  problems: MigrationProblem[];
}

export interface MigratedFile {
  source: string;
  text: string;
  changed: boolean;
  objects: ObjectReport[];
}

export interface MigrateOptions {
  /** Namespace assumed for objects that name none. */
  namespace?: string;
  /**
   * Side by side with ESO: each ExternalSecret writes `<its Secret's name><suffix>`, so both
   * operators can run on one cluster and their Secrets be compared before the switch.
   */
  targetSuffix?: string;
  /** The GKE cluster as PROJECT/LOCATION/NAME, for workload identity stores that do not name it. */
  gkeCluster?: string;
}

const CONVERTED_KINDS = new Set(['ExternalSecret', 'SecretStore', 'ClusterSecretStore']);

type SaIndex = Map<string, Record<string, string>>;

function indexServiceAccounts(files: ManifestFile[], defaultNs: string | undefined): SaIndex {
  const index: SaIndex = new Map();
  for (const doc of files.flatMap((f) => f.documents)) {
    const obj = asRecord(doc.object);
    if (obj.kind !== 'ServiceAccount' || obj.apiVersion !== 'v1') continue;
    const meta = asRecord(obj.metadata);
    index.set(`${String(meta.namespace ?? defaultNs ?? '')}/${String(meta.name)}`, asRecord(meta.annotations) as Record<string, string>);
  }
  return index;
}

/** Detects the sequence indentation and flow padding the file uses, so edited documents keep its style. */
function styleOf(text: string): { indentSeq: boolean; flowCollectionPadding: boolean } {
  const flat = /\n( *)[^\s#-][^\n]*:\s*\n\1- /.test(text);
  const indented = /\n( *)[^\s#-][^\n]*:\s*\n\1  - /.test(text);
  return { indentSeq: indented || !flat, flowCollectionPadding: !/[{[][^\s}\]]/.test(text.replace(/\{\{[^}]*\}\}/g, '')) };
}

export function migrateManifests(files: ManifestFile[], options: MigrateOptions = {}): MigratedFile[] {
  const serviceAccounts = indexServiceAccounts(files, options.namespace);
  return files.map((file) => migrateFile(file, serviceAccounts, options));
}

function migrateFile(file: ManifestFile, serviceAccounts: SaIndex, options: MigrateOptions): MigratedFile {
  const objects: ObjectReport[] = [];
  const parts: string[] = [];
  const style = styleOf(file.text);
  let changed = false;
  file.documents.forEach((doc, i) => {
    const next = file.documents[i + 1];
    const original = file.text.slice(doc.document.range[0], next ? next.document.range[0] : file.text.length);
    const report = migrateDocument(doc, serviceAccounts, options);
    if (report) objects.push(report);
    if (!report || report.outcome === 'skipped') {
      parts.push(original);
      return;
    }
    changed = true;
    const text = doc.document.toString({ ...style, lineWidth: 0 });
    parts.push(next && !text.endsWith('\n') ? `${text}\n` : text);
  });
  return { source: file.source, text: changed ? parts.join('') : file.text, changed, objects };
}

function migrateDocument(doc: ManifestDocument, serviceAccounts: SaIndex, options: MigrateOptions): ObjectReport | undefined {
  const obj = asRecord(doc.object);
  if (doc.errors.length > 0 || !isEsoApiVersion(obj.apiVersion) || typeof obj.kind !== 'string') return undefined;
  const meta = asRecord(obj.metadata);
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : options.namespace;
  const base = { source: doc.source, line: doc.lineOf(['kind']), kind: obj.kind, name: String(meta.name ?? ''), ...(namespace ? { namespace } : {}) };
  if (!CONVERTED_KINDS.has(obj.kind)) {
    const message = `${obj.kind} has no Lockstep equivalent yet; the document is left as it was`;
    return { ...base, outcome: 'skipped', problems: [{ level: 'unsupported', field: 'kind', line: base.line, message }] };
  }
  const m = new ObjectMigration(doc);
  m.set(['apiVersion'], API_VERSION);
  m.drop('dropped', ['status'], 'status is written by the operator');
  if (obj.kind === 'ExternalSecret') {
    convertExternalSecret(m);
    if (options.targetSuffix) addTargetSuffix(m, String(meta.name ?? ''), options.targetSuffix);
  } else {
    convertStore(m, {
      clusterScoped: obj.kind === 'ClusterSecretStore',
      namespace,
      gkeCluster: options.gkeCluster,
      serviceAccountAnnotations: (ns, name) => serviceAccounts.get(`${ns ?? ''}/${name}`),
    });
  }
  const outcome = m.problems.some((p) => p.level === 'unsupported') ? 'partial' : 'converted';
  return { ...base, outcome, problems: m.problems.sort((a, b) => a.line - b.line) };
}

function addTargetSuffix(m: ObjectMigration, name: string, suffix: string): void {
  const path = ['spec', 'target', 'name'];
  const current = m.get(path);
  const secret = `${typeof current === 'string' ? current : name}${suffix}`;
  m.set(path, secret);
  m.report('note', path, `side by side: writes Secret '${secret}', next to the one ESO writes; drop --target-suffix for the switch`);
}
