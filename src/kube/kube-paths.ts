import type { Resource } from './kube-port.js';

export interface PathParts {
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** `v1` for the core group, `group/version` otherwise. */
export function buildApiVersion(res: Resource): string {
  return res.group === '' ? res.version : `${res.group}/${res.version}`;
}

/**
 * The REST path of a collection (no name) or of one object, optionally of its subresource.
 * A namespaced resource without a namespace addresses all namespaces (list/watch only).
 */
export function buildResourcePath(res: Resource, parts: PathParts = {}): string {
  const root = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
  const segments = [root];
  if (res.namespaced && parts.namespace) segments.push('namespaces', encodeURIComponent(parts.namespace));
  segments.push(res.plural);
  if (parts.name !== undefined) {
    if (parts.name === '') throw new Error(`${res.kind}: empty object name`);
    if (res.namespaced && !parts.namespace) throw new Error(`${res.kind} ${parts.name}: namespace required`);
    segments.push(encodeURIComponent(parts.name));
    if (parts.subresource) segments.push(parts.subresource);
  }
  return segments.join('/');
}

/** Label for metrics and messages: `secrets`, `leases.coordination.k8s.io`, with `/status` when used. */
export function buildResourceLabel(res: Resource, subresource?: string): string {
  const base = res.group === '' ? res.plural : `${res.plural}.${res.group}`;
  return subresource ? `${base}/${subresource}` : base;
}

/** `?a=1&b=2` from the defined entries, or '' when there are none. */
export function buildQuery(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** `namespace/name` or `name`, for error messages. */
export function describeTarget(name?: string, namespace?: string): string {
  if (name === undefined) return namespace ? `in ${namespace}` : '';
  return namespace ? `${namespace}/${name}` : name;
}
