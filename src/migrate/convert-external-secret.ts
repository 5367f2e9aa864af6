/** ESO ExternalSecret (v1, v1beta1, v1alpha1) → Lockstep ExternalSecret, field by field. */
import type { FieldPath } from '../check/manifest-reader.js';
import { convertGoTemplate } from './go-template.js';
import type { ObjectMigration } from './object-migration.js';

/** Go durations ("1h0m0s", "90s", "500ms", "1.5h", "0") → ours; undefined when not a duration. */
export function convertDuration(text: unknown): string | undefined {
  if (typeof text === 'number') return `${text}s`;
  if (typeof text !== 'string') return undefined;
  if (/^0+$/.test(text)) return '0';
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|μs|ms|s|m|h)/g)];
  if (parts.map((p) => p[0]).join('') !== text || parts.length === 0) return undefined;
  if (parts.every((p) => ['ms', 's', 'm', 'h'].includes(p[2] as string))) return text;
  const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * ({ ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[unit as string] ?? 0), 0);
  return ms === 0 ? '0' : `${Math.max(1, Math.round(ms))}ms`;
}

export function convertExternalSecret(m: ObjectMigration): void {
  const spec: FieldPath = ['spec'];
  m.dropUnknown(spec, ['secretStoreRef', 'refreshInterval', 'refreshPolicy', 'target', 'data', 'dataFrom'], 'spec field');
  if (!m.has([...spec, 'secretStoreRef'])) {
    m.report('unsupported', [...spec, 'secretStoreRef'], 'no secretStoreRef: ESO takes the store from each entry\'s sourceRef, Lockstep needs one store per ExternalSecret');
  }
  m.dropUnknown([...spec, 'secretStoreRef'], ['name', 'kind'], 'secretStoreRef field');
  convertRefreshInterval(m, [...spec, 'refreshInterval']);
  convertTarget(m);
  for (let i = 0; i < m.length([...spec, 'data']); i++) convertDataItem(m, [...spec, 'data', i]);
  const dataFrom = [...spec, 'dataFrom'];
  for (let i = 0; i < m.length(dataFrom); i++) convertDataFromItem(m, [...dataFrom, i]);
}

function convertRefreshInterval(m: ObjectMigration, path: FieldPath): void {
  if (!m.has(path)) return;
  const value = m.get(path);
  const converted = convertDuration(value);
  if (converted === undefined) m.drop('unsupported', path, `refreshInterval '${String(value)}' is not a duration`);
  else if (converted !== value) {
    m.set(path, converted);
    m.report('review', path, `refreshInterval '${String(value)}' written as '${converted}'`);
  }
}

function convertTarget(m: ObjectMigration): void {
  const target: FieldPath = ['spec', 'target'];
  if (!m.has(target)) return;
  m.drop('dropped', [...target, 'engineVersion'], 'target.engineVersion is not an ESO field either (it belongs in template): ESO ignores it');
  m.dropUnknown(target, ['name', 'creationPolicy', 'deletionPolicy', 'immutable', 'template'], 'target field');
  const template = [...target, 'template'];
  if (!m.has(template)) return;
  const engine = m.get([...template, 'engineVersion']);
  m.drop('dropped', [...template, 'engineVersion'], `engineVersion ${String(engine)}: Lockstep templates are Mustache, converted below`);
  m.drop('unsupported', [...template, 'templateFrom'], 'templateFrom (templates read from a ConfigMap or Secret) has no Lockstep equivalent: inline them in template.data');
  m.drop('unsupported', [...template, 'literal'], 'template.literal (a template that renders the whole data map) has no Lockstep equivalent: write one template.data entry per key');
  m.dropUnknown([...template, 'metadata'], ['labels', 'annotations'], 'template.metadata field');
  m.dropUnknown(template, ['type', 'metadata', 'data', 'mergePolicy'], 'template field');
  if (m.keys([...template, 'data']).length > 0 && !m.has([...template, 'mergePolicy'])) {
    m.set([...template, 'mergePolicy'], 'Replace');
    m.report('note', [...template, 'mergePolicy'], "mergePolicy Replace written out: it is ESO's default (the Secret holds only the templated keys), Lockstep's default is Merge");
  }
  for (const key of m.keys([...template, 'data'])) {
    const path = [...template, 'data', key];
    const text = m.get(path);
    if (typeof text !== 'string') continue;
    const converted = convertGoTemplate(text);
    if (converted.ok) {
      if (converted.text !== text) m.set(path, converted.text);
    } else m.drop('unsupported', path, `the template for key '${key}' cannot be converted to Mustache: ${converted.reason}`);
  }
}

/**
 * The per-reference strategy fields. decodingStrategy is Lockstep's too; metadataPolicy Fetch too on
 * data and extract, for the four providers (not find: ESO has none there); conversionStrategy only means something for
 * extract and find (the keys they produce); nullBytePolicy Fail is a feature Lockstep lacks; the
 * defaults are dropped.
 */
function convertStrategies(m: ObjectMigration, ref: FieldPath, keysFromProvider: boolean, isFind = false): void {
  const defaults: Record<string, string> = { decodingStrategy: 'None', metadataPolicy: 'None', nullBytePolicy: 'Ignore' };
  for (const field of ['decodingStrategy', 'metadataPolicy', 'nullBytePolicy']) {
    const path = [...ref, field];
    if (!m.has(path)) continue;
    const value = m.get(path);
    const ours = field === 'decodingStrategy' || (field === 'metadataPolicy' && value === 'Fetch' && !isFind);
    if (value === defaults[field]) m.drop('dropped', path, `${field} ${String(value)} is Lockstep's behaviour`);
    else if (!ours) m.drop('unsupported', path, `${field} ${String(value)} has no Lockstep equivalent${field === 'metadataPolicy' ? ' here' : ''}`);
  }
  if (!keysFromProvider) m.drop('dropped', [...ref, 'conversionStrategy'], 'conversionStrategy has no effect on a data entry (its key is secretKey)');
}

function convertDataItem(m: ObjectMigration, item: FieldPath): void {
  m.drop('unsupported', [...item, 'sourceRef'], 'sourceRef (a per-entry store or a generator) has no Lockstep equivalent');
  const ref = [...item, 'remoteRef'];
  convertStrategies(m, ref, false);
  m.dropUnknown(ref, ['key', 'property', 'version', 'decodingStrategy', 'metadataPolicy'], 'remoteRef field');
  m.dropUnknown(item, ['secretKey', 'remoteRef'], 'data field');
}

function convertDataFromItem(m: ObjectMigration, item: FieldPath): void {
  // v1alpha1: a dataFrom entry is a remoteRef itself.
  if (m.has([...item, 'key']) && !m.has([...item, 'extract']) && !m.has([...item, 'find'])) {
    for (const field of m.keys(item)) m.move([...item, field], [...item, 'extract', field]);
  }
  m.drop('unsupported', [...item, 'sourceRef'], 'sourceRef (a per-entry store or a generator) has no Lockstep equivalent');
  const extract = [...item, 'extract'];
  const find = [...item, 'find'];
  if (m.has(extract)) {
    convertStrategies(m, extract, true);
    m.dropUnknown(extract, ['key', 'property', 'version', 'decodingStrategy', 'conversionStrategy', 'metadataPolicy'], 'extract field');
  }
  if (m.has(find)) {
    convertStrategies(m, find, true, true);
    m.dropUnknown([...find, 'name'], ['regexp'], 'find.name field');
    m.dropUnknown(find, ['name', 'tags', 'path', 'decodingStrategy', 'conversionStrategy'], 'find field');
  }
  const rewrite = [...item, 'rewrite'];
  for (let j = m.length(rewrite) - 1; j >= 0; j--) {
    const r = [...rewrite, j];
    if (m.get([...r, 'merge', 'into']) === '') m.drop('dropped', [...r, 'merge', 'into'], "into '' is ESO's default for strategy Extract, where it is not used");
    m.dropUnknown([...r, 'merge'], ['into', 'priority', 'priorityPolicy', 'conflictPolicy', 'strategy'], 'merge field');
    m.dropUnknown(r, ['regexp', 'merge'], 'rewrite');
    if (m.keys(r).length === 0) m.remove(r);
  }
  if (m.length(rewrite) === 0) m.remove(rewrite);
  const source = m.has(extract) ? extract : m.has(find) ? find : undefined;
  if (source && m.has(rewrite)) {
    m.drop('dropped', [...source, 'conversionStrategy'], 'conversionStrategy: ESO ignores it when the entry has a rewrite');
  } else if (source && !m.has([...source, 'conversionStrategy'])) {
    m.set([...source, 'conversionStrategy'], 'Default');
    m.report('note', [...source, 'conversionStrategy'], "conversionStrategy Default written out: ESO renames keys a Secret cannot hold ('/' → '_') unless the entry has a rewrite; Lockstep does only when asked");
  }
  m.dropUnknown(item, ['extract', 'find', 'rewrite'], 'dataFrom field');
}
