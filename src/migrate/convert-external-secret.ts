/** ESO ExternalSecret (v1, v1beta1, v1alpha1) → Lockstep ExternalSecret, field by field. */
import type { FieldPath } from '../check/manifest-reader.js';
import { convertGoTemplate } from './go-template.js';
import type { ObjectMigration } from './object-migration.js';

/** ESO's default key conversion for find (no rewrite): every character not allowed in a Secret key becomes "_". */
export const ESO_DEFAULT_KEY_CONVERSION = { regexp: { source: '[^-._a-zA-Z0-9]', target: '_' } };

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

const STRATEGY_FIELDS = ['conversionStrategy', 'decodingStrategy', 'metadataPolicy', 'nullBytePolicy'];

/** The per-reference strategy fields: their defaults are dropped; other values are features Lockstep lacks. */
function convertStrategies(m: ObjectMigration, ref: FieldPath): void {
  const defaults: Record<string, string> = { conversionStrategy: 'Default', decodingStrategy: 'None', metadataPolicy: 'None', nullBytePolicy: 'Ignore' };
  for (const field of STRATEGY_FIELDS) {
    const path = [...ref, field];
    if (!m.has(path)) continue;
    const value = m.get(path);
    if (value === defaults[field]) m.drop('dropped', path, `${field} ${String(value)} is Lockstep's behaviour`);
    else m.drop('unsupported', path, `${field} ${String(value)} has no Lockstep equivalent`);
  }
}

function convertDataItem(m: ObjectMigration, item: FieldPath): void {
  m.drop('unsupported', [...item, 'sourceRef'], 'sourceRef (a per-entry store or a generator) has no Lockstep equivalent');
  const ref = [...item, 'remoteRef'];
  convertStrategies(m, ref);
  m.dropUnknown(ref, ['key', 'property', 'version'], 'remoteRef field');
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
  const usesUnicode = m.get([...find, 'conversionStrategy']) === 'Unicode' || m.get([...extract, 'conversionStrategy']) === 'Unicode';
  if (m.has(extract)) {
    convertStrategies(m, extract);
    m.dropUnknown(extract, ['key', 'property', 'version'], 'extract field');
  }
  if (m.has(find)) {
    convertStrategies(m, find);
    m.dropUnknown([...find, 'name'], ['regexp'], 'find.name field');
    m.dropUnknown(find, ['name', 'tags', 'path'], 'find field');
  }
  const rewrite = [...item, 'rewrite'];
  for (let j = m.length(rewrite) - 1; j >= 0; j--) {
    const r = [...rewrite, j];
    if (m.has([...r, 'regexp'])) m.dropUnknown(r, ['regexp'], 'rewrite field');
    else m.dropUnknown(r, [], 'rewrite');
    if (m.keys(r).length === 0) m.remove(r);
  }
  if (m.length(rewrite) === 0) m.remove(rewrite);
  if (m.has(find) && !m.has(rewrite) && !usesUnicode) {
    m.set(rewrite, [ESO_DEFAULT_KEY_CONVERSION]);
    m.report('note', rewrite, "added a rewrite that turns characters a Secret key cannot hold into '_', which ESO does by default for find without rewrite");
  }
  m.dropUnknown(item, ['extract', 'find', 'rewrite'], 'dataFrom field');
}
