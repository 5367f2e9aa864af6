/** Which namespaces may use a store. Pure. */
import type { LabelSelector } from '../../api/common.js';
import type { ClusterStoreCondition } from '../../api/secret-store.js';
import { compilePattern, PatternError } from '../../runtime/pattern.js';

/** RE2 (linear time); a pattern that does not compile matches nothing (`lockstep check` reports it). */
function matchesPattern(source: string, text: string): boolean {
  try {
    return compilePattern(source).test(text);
  } catch (err) {
    if (err instanceof PatternError) return false;
    throw err;
  }
}

export function matchesLabelSelector(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const inValues = has && (req.values ?? []).includes(labels[req.key] as string);
    const ok =
      req.operator === 'In' ? inValues :
      req.operator === 'NotIn' ? !inValues :
      req.operator === 'Exists' ? has : !has;
    if (!ok) return false;
  }
  return true;
}

/** A ClusterSecretStore with no conditions allows every namespace; otherwise any matching entry allows. */
export function isNamespaceAllowed(
  conditions: ClusterStoreCondition[] | undefined,
  namespace: string,
  namespaceLabels: Record<string, string> | undefined,
): boolean {
  if (!conditions || conditions.length === 0) return true;
  return conditions.some(
    (c) =>
      (c.namespaces?.includes(namespace) ?? false) ||
      (c.namespaceSelector !== undefined && matchesLabelSelector(c.namespaceSelector, namespaceLabels)) ||
      (c.namespaceRegexes?.some((source) => matchesPattern(source, namespace)) ?? false),
  );
}
