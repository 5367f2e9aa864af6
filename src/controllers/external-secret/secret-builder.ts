/**
 * Pure functions that turn fetched provider data and an ExternalSecret spec into the Secret we want,
 * and the keyed hash that says whether it changed.
 */
import { createHmac } from 'node:crypto';
import Mustache from 'mustache';
import type { ExternalSecretSpec, Template } from '../../api/external-secret.js';
import { Annotations, Labels } from '../../api/constants.js';

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

const decoder = new TextDecoder();

/**
 * Renders the template: Mustache is logic-less (no code runs), HTML escaping is off, and the view
 * holds only the fetched data as strings — nothing of the controller's.
 */
export function renderTemplate(template: Template | undefined, fetched: Map<string, Uint8Array>): Map<string, Uint8Array> {
  if (!template?.data) return fetched;
  const view: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of fetched) view[k] = decoder.decode(v);
  const rendered = new Map<string, Uint8Array>(template.mergePolicy === 'Replace' ? [] : fetched);
  for (const [key, text] of Object.entries(template.data)) {
    try {
      rendered.set(key, Buffer.from(Mustache.render(text, view, {}, { escape: (s: string) => s }), 'utf8'));
    } catch (err) {
      throw new TemplateError(`template for key '${key}' is invalid: ${(err as Error).message}`);
    }
  }
  return rendered;
}

/** Applies dataFrom rewrites (regexp source → target) to key names. */
export function rewriteKeys(
  data: Map<string, Uint8Array>,
  rewrites: { regexp: { source: string; target: string } }[] | undefined,
): Map<string, Uint8Array> {
  if (!rewrites?.length) return data;
  const compiled = rewrites.map((r) => ({ re: new RegExp(r.regexp.source, 'g'), target: r.regexp.target }));
  const out = new Map<string, Uint8Array>();
  for (const [key, value] of data) {
    out.set(compiled.reduce((k, r) => k.replace(r.re, r.target), key), value);
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
 * The regular expressions of `dataFrom` that do not compile, each named by its field: a spec
 * error to report, not a failure to retry.
 */
export function findInvalidPatterns(spec: Pick<ExternalSecretSpec, 'dataFrom'>): string[] {
  const problems: string[] = [];
  const check = (field: string, source: string, flags?: string) => {
    try {
      new RegExp(source, flags);
    } catch (err) {
      problems.push(`${field} '${source}' is not a valid regular expression (${(err as Error).message})`);
    }
  };
  (spec.dataFrom ?? []).forEach((item, i) => {
    if (item.find?.name) check(`dataFrom[${i}].find.name.regexp`, item.find.name.regexp);
    (item.rewrite ?? []).forEach((r, j) => check(`dataFrom[${i}].rewrite[${j}].regexp.source`, r.regexp.source, 'g'));
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
  return createHmac('sha256', key).update(canonical).digest('base64url');
}

/** What the current Secret holds of the fields we render, projected for hashing. */
export function projectCurrent(
  current: { type?: string; data?: Record<string, string>; immutable?: boolean; metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } },
  desired: DesiredSecret,
): Pick<DesiredSecret, 'type' | 'data' | 'labels' | 'annotations' | 'immutable'> {
  const pick = (from: Record<string, string> | undefined, keys: string[]) =>
    Object.fromEntries(keys.filter((k) => from?.[k] !== undefined).map((k) => [k, from?.[k] as string]));
  return {
    type: current.type ?? 'Opaque',
    data: pick(current.data, Object.keys(desired.data)),
    labels: pick(current.metadata.labels, Object.keys(desired.labels)),
    annotations: pick(current.metadata.annotations, Object.keys(desired.annotations)),
    immutable: current.immutable ?? false,
  };
}
