/**
 * Pure functions that turn fetched provider data and an ExternalSecret spec into the Secret we want,
 * and the keyed hash that says whether it changed.
 */
import { createHmac } from 'node:crypto';
import { hmacKey } from '../hash-key.js';
import Mustache from 'mustache';
import type { ExternalSecretSpec, Template } from '../../api/external-secret.js';
import { Annotations, Labels } from '../../api/constants.js';
import { compilePattern, PatternError } from '../../runtime/pattern.js';

export interface DesiredSecret {
  name: string;
  namespace: string;
  type: string;
  /** Secret data, base64-encoded as the API expects. */
  data: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  immutable: boolean;
}

export class TemplateError extends Error {}

/**
 * Values are rendered as byte strings (latin1: one character per byte), so a value that is not
 * UTF-8 (a binary AWS SecretBinary, a DER key) comes out byte for byte, as ESO's Go templates
 * keep it; UTF-8 decoding would turn each invalid byte into U+FFFD. The template's own text is
 * UTF-8 and is converted the same way.
 */
const asBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/**
 * Renders the template. The syntax is Mustache, parsed by mustache.js; it is logic-less (no code
 * runs), nothing is escaped, and a template sees only the fetched data as strings — nothing of
 * the controller's. Rendering walks the parsed tokens here rather than in mustache.js for two
 * reasons: Secret keys contain dots (`tls.crt`), which mustache.js would read as a path into an
 * object, and a template that names a key the data does not have must fail (InvalidSpec, naming
 * the key) instead of quietly rendering "".
 */
export function renderTemplate(template: Template | undefined, fetched: Map<string, Uint8Array>): Map<string, Uint8Array> {
  if (!template?.data) return fetched;
  const view = new Map([...fetched].map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1')]));
  const rendered = new Map<string, Uint8Array>(template.mergePolicy === 'Replace' ? [] : fetched);
  for (const [key, text] of Object.entries(template.data)) {
    let tokens: MustacheToken[];
    try {
      tokens = Mustache.parse(text) as MustacheToken[];
    } catch (err) {
      throw new TemplateError(`template for key '${key}' is invalid: ${(err as Error).message}`);
    }
    const missing = [...new Set(namesIn(tokens))].filter((name) => name !== '.' && !view.has(name));
    if (missing.length > 0) throw new TemplateError(describeMissing(key, missing, [...view.keys()]));
    rendered.set(key, new Uint8Array(Buffer.from(renderTokens(tokens, view, undefined), 'latin1')));
  }
  return rendered;
}

/** mustache.js's parse tree: [type, value, start, end, children?]. */
type MustacheToken = [string, string, number, number, MustacheToken[]?];

function namesIn(tokens: MustacheToken[]): string[] {
  return tokens.flatMap(([type, value, , , children]) => {
    if (type === 'name' || type === '&') return [value];
    if (type === '#' || type === '^') return [value, ...namesIn(children ?? [])];
    if (type === '>') return [`> ${value}`]; // partials are not supported: report them as unknown
    return [];
  });
}

/** Text, variables, sections (rendered when the value is not empty) and inverted sections. */
function renderTokens(tokens: MustacheToken[], view: Map<string, string>, current: string | undefined): string {
  let out = '';
  for (const [type, value, , , children] of tokens) {
    const resolved = value === '.' ? (current ?? '') : (view.get(value) ?? '');
    if (type === 'text') out += asBytes(value);
    else if (type === 'name' || type === '&') out += resolved;
    else if (type === '#' && resolved !== '') out += renderTokens(children ?? [], view, resolved);
    else if (type === '^' && resolved === '') out += renderTokens(children ?? [], view, current);
  }
  return out;
}

function listSome(keys: string[], max = 10): string {
  if (keys.length === 0) return '(none)';
  const shown = keys.slice(0, max).map((k) => `'${k}'`).join(', ');
  return keys.length > max ? `${shown} and ${keys.length - max} more` : shown;
}

function describeMissing(key: string, missing: string[], available: string[]): string {
  const names = missing.map((n) => `'${n}'`).join(', ');
  const goStyle = missing.some((n) => n.startsWith('.') || n.includes('|') || /\s/.test(n));
  const hint = goStyle
    ? '; Lockstep templates are Mustache, not Go templates: write {{ password }}, not {{ .password }} or pipelines'
    : `; the keys it can use are ${listSome(available)}`;
  return `template for key '${key}' names ${names}, which the fetched data does not have${hint}`;
}

/** Applies dataFrom rewrites (regexp source → target) to key names. */
export function rewriteKeys(
  data: Map<string, Uint8Array>,
  rewrites: { regexp: { source: string; target: string } }[] | undefined,
): Map<string, Uint8Array> {
  if (!rewrites?.length) return data;
  const compiled = rewrites.map((r) => ({ pattern: compilePattern(r.regexp.source), target: r.regexp.target }));
  const out = new Map<string, Uint8Array>();
  for (const [key, value] of data) {
    out.set(compiled.reduce((k, r) => r.pattern.replaceAll(k, r.target), key), value);
  }
  return out;
}

/**
 * Keys a Secret may hold, by the API server's rule: provider names such as "team/db" are not valid
 * keys without a rewrite, and neither are ".", ".." or a key starting with "..".
 */
export function findInvalidKeys(data: Map<string, Uint8Array>): string[] {
  return [...data.keys()].filter((k) => !/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253 || k === '.' || k.startsWith('..'));
}

/**
 * The regular expressions of `dataFrom` that do not compile (in RE2, see runtime/pattern.ts), each
 * named by its field: a spec error to report, not a failure to retry. Checked, and so compiled and
 * cached, when the spec is read, before any provider call.
 */
export function findInvalidPatterns(spec: Pick<ExternalSecretSpec, 'dataFrom'>): string[] {
  const problems: string[] = [];
  const check = (field: string, source: string) => {
    try {
      compilePattern(source);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      problems.push(`${field} ${err.message}`);
    }
  };
  (spec.dataFrom ?? []).forEach((item, i) => {
    if (item.find?.name) check(`dataFrom[${i}].find.name.regexp`, item.find.name.regexp);
    (item.rewrite ?? []).forEach((r, j) => r.regexp && check(`dataFrom[${i}].rewrite[${j}].regexp.source`, r.regexp.source));
  });
  return problems;
}

export function buildDesiredSecret(
  es: { name: string; namespace: string; spec: ExternalSecretSpec },
  data: Map<string, Uint8Array>,
): DesiredSecret {
  const target = es.spec.target;
  const encoded: Record<string, string> = {};
  for (const key of [...data.keys()].sort()) encoded[key] = Buffer.from(data.get(key) as Uint8Array).toString('base64');
  return {
    name: target?.name ?? es.name,
    namespace: es.namespace,
    type: target?.template?.type ?? 'Opaque',
    data: encoded,
    labels: { ...target?.template?.metadata?.labels, [Labels.managed]: 'true' },
    annotations: { ...target?.template?.metadata?.annotations, [Annotations.owner]: `${es.namespace}/${es.name}` },
    immutable: target?.immutable ?? false,
  };
}

function sortedEntries(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A keyed hash (HMAC-SHA256) of everything we render into the Secret. Keyed, so that the hash of a
 * low-entropy value stored in an annotation cannot be reversed by guessing.
 */
export function computeDataHash(key: Uint8Array, desired: Pick<DesiredSecret, 'type' | 'data' | 'labels' | 'annotations' | 'immutable'>): string {
  const annotations = { ...desired.annotations };
  delete annotations[Annotations.dataHash];
  const canonical = JSON.stringify([
    desired.type,
    sortedEntries(desired.data),
    sortedEntries(desired.labels),
    sortedEntries(annotations),
    desired.immutable,
  ]);
  return createHmac('sha256', hmacKey(key)).update(canonical).digest('base64url');
}
