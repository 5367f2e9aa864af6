/**
 * `lockstep check`: validates Lockstep manifests offline, as the API server and the operator would
 * judge them, and names each problem by file:line. Pure: manifests in, findings out.
 */
import type { z } from 'zod';
import { API_VERSION, GROUP } from '../api/constants.js';
import { buildCrd, Kinds } from '../api/crd-builder.js';
import { findInvalidPatterns, renderTemplate, TemplateError } from '../controllers/external-secret/secret-builder.js';
import type { ExternalSecretSpec } from '../api/external-secret.js';
import { isNamespaceAllowed } from '../controllers/secret-store/store-access-policy.js';
import { compilePattern, PatternError } from '../runtime/pattern.js';
import type { ClusterStoreCondition } from '../api/secret-store.js';
import { ESO_ONLY_FIELDS, isEsoApiVersion } from './eso-fields.js';
import { asRecord, buildIndex, specPath, toObjectRef, type ManifestIndex, type ObjectRef } from './manifest-index.js';
import type { FieldPath, ManifestFile } from './manifest-reader.js';
import { validateSchema, type JsonSchema } from './schema-validator.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  source: string;
  line: number;
  severity: Severity;
  /** A stable code: yaml, api-version, kind, metadata, schema, unknown-field, eso-field, eso-manifest, template, pattern, store-ref, store-not-allowed, credential-ref, duplicate, target-clash. */
  code: string;
  message: string;
  kind?: string;
  namespace?: string;
  name?: string;
  /** The field, as a dotted path (spec.data[0].secretKey). */
  field?: string;
}

export interface CheckOptions {
  /** The namespace of objects that name none (what `kubectl apply -n` or kustomize would give them). */
  namespace?: string;
  /** Stores that exist outside the files, as "SecretStore/name", "namespace/name" or "ClusterSecretStore/name". */
  externalStores?: string[];
}

export function formatPath(path: FieldPath): string {
  return path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg), '');
}

interface KindSchema {
  zod: z.ZodType;
  json: JsonSchema;
}

const kindSchemas = new Map<string, KindSchema>(
  Kinds.map((def) => {
    const crd = buildCrd(def) as { spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: JsonSchema } } } }[] } };
    return [def.kind, { zod: def.spec, json: crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec ?? {} }];
  }),
);

class Findings {
  readonly list: Finding[] = [];
  add(o: ObjectRef | undefined, doc: { source: string; lineOf(p: FieldPath): number }, f: Omit<Finding, 'source' | 'line'>, path: FieldPath = []): void {
    this.list.push({
      source: doc.source,
      line: doc.lineOf(path),
      ...(o ? { kind: o.kind, name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) } : {}),
      ...(path.length > 0 ? { field: formatPath(path) } : {}),
      ...f,
    });
  }
}

export function checkManifests(files: ManifestFile[], options: CheckOptions = {}): Finding[] {
  const findings = new Findings();
  const objects: ObjectRef[] = [];
  for (const doc of files.flatMap((f) => f.documents)) {
    for (const e of doc.errors) findings.list.push({ source: doc.source, line: e.line, severity: 'error', code: 'yaml', message: e.message });
    if (doc.errors.length > 0 || doc.object === null || doc.object === undefined) continue;
    const o = toObjectRef(doc, options.namespace);
    if (o) objects.push(o);
  }
  const isLockstep = (o: ObjectRef) => o.apiVersion === API_VERSION && kindSchemas.has(o.kind);
  const index = buildIndex(objects, isLockstep);
  for (const o of objects) {
    if (isEsoApiVersion(o.apiVersion)) {
      findings.add(o, o.doc, { severity: 'warning', code: 'eso-manifest', message: `an External Secrets Operator ${o.kind}: \`lockstep migrate ${o.doc.source === '<stdin>' ? '-' : o.doc.source}\` converts it` }, ['apiVersion']);
      continue;
    }
    if (o.apiVersion.split('/')[0] !== GROUP) continue;
    if (!checkKind(o, findings)) continue;
    checkSchema(o, findings);
    if (o.kind === 'ExternalSecret') checkExternalSecret(o, index, findings, options);
    else checkStore(o, findings);
  }
  checkDuplicates(objects.filter(isLockstep), findings);
  return findings.list.sort((a, b) => (a.source === b.source ? a.line - b.line : a.source < b.source ? -1 : 1));
}

function checkKind(o: ObjectRef, findings: Findings): boolean {
  if (o.apiVersion !== API_VERSION) {
    findings.add(o, o.doc, { severity: 'error', code: 'api-version', message: `apiVersion '${o.apiVersion}' is not served; use ${API_VERSION}` }, ['apiVersion']);
    return false;
  }
  if (!kindSchemas.has(o.kind)) {
    findings.add(o, o.doc, { severity: 'error', code: 'kind', message: `kind '${o.kind}' is not a Lockstep kind (${[...kindSchemas.keys()].join(', ')})` }, ['kind']);
    return false;
  }
  if (!o.name) findings.add(o, o.doc, { severity: 'error', code: 'metadata', message: 'metadata.name is required' }, ['metadata']);
  return true;
}

function checkSchema(o: ObjectRef, findings: Findings): void {
  const schema = kindSchemas.get(o.kind) as KindSchema;
  const raw = asRecord(o.doc.object).spec;
  if (raw === undefined) {
    findings.add(o, o.doc, { severity: 'error', code: 'schema', message: 'spec is required' }, ['spec']);
    return;
  }
  const seen = new Set<string>();
  for (const issue of validateSchema(schema.json, raw, ['spec'])) {
    const field = issue.path[issue.path.length - 1];
    if (issue.kind === 'unknown') {
      const eso = typeof field === 'string' && ESO_ONLY_FIELDS.has(field);
      const message = eso
        ? `'${field}' is an External Secrets Operator field that Lockstep does not have; \`lockstep migrate\` converts it or says why it cannot`
        : `'${String(field)}' is not a field of ${o.kind} (the API server would refuse it under kubectl's strict field validation)`;
      findings.add(o, o.doc, { severity: 'error', code: eso ? 'eso-field' : 'unknown-field', message }, issue.path);
    } else {
      findings.add(o, o.doc, { severity: issue.kind === 'invalid' ? 'error' : 'info', code: 'schema', message: `${formatPath(issue.path)}: ${issue.message}` }, issue.path);
    }
    seen.add(formatPath(issue.path));
  }
  // zod's own checks, which a CRD cannot carry (record key patterns, say).
  const parsed = schema.zod.safeParse(raw);
  if (parsed.success) return;
  for (const issue of parsed.error.issues) {
    const path: FieldPath = ['spec', ...(issue.path as FieldPath)];
    const text = formatPath(path);
    if (seen.has(text)) continue;
    seen.add(text);
    findings.add(o, o.doc, { severity: 'error', code: 'schema', message: `${text}: ${issue.message}` }, path);
  }
}

const GO_TEMPLATE_HINT = 'not Go templates';

function checkExternalSecret(o: ObjectRef, index: ManifestIndex, findings: Findings, options: CheckOptions): void {
  const spec = o.spec as Partial<ExternalSecretSpec>;
  checkTemplates(o, spec, findings);
  for (const problem of safe(() => findInvalidPatterns({ dataFrom: Array.isArray(spec.dataFrom) ? spec.dataFrom : [] }), [])) {
    findings.add(o, o.doc, { severity: 'error', code: 'pattern', message: problem }, ['spec', ...parseField(problem.split(' ')[0] ?? '')]);
  }
  checkStoreRef(o, spec, index, findings, options);
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** "dataFrom[0].find.name.regexp" → ['dataFrom', 0, 'find', 'name', 'regexp']. */
export function parseField(text: string): FieldPath {
  return text.split('.').flatMap((part) => {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return [part];
    const indexes = [...(m[2] ?? '').matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
    return [...(m[1] ? [m[1]] : []), ...indexes];
  });
}

/**
 * Each template is rendered by the operator's own renderer over the keys `data` provides (values
 * empty): a template that does not parse, or names a key nothing provides, fails here as it would
 * in the cluster. Keys that `dataFrom` may provide are known only at sync time: those are noted.
 */
function checkTemplates(o: ObjectRef, spec: Partial<ExternalSecretSpec>, findings: Findings): void {
  const templateData = asRecord(asRecord(asRecord(spec.target).template).data);
  const provided = new Map<string, Uint8Array>();
  for (const item of Array.isArray(spec.data) ? spec.data : []) {
    if (typeof item?.secretKey === 'string') provided.set(item.secretKey, new Uint8Array());
  }
  const hasDataFrom = Array.isArray(spec.dataFrom) && spec.dataFrom.length > 0;
  for (const [key, text] of Object.entries(templateData)) {
    if (typeof text !== 'string') continue;
    const path = specPath('target', 'template', 'data', key);
    try {
      renderTemplate({ data: { [key]: text }, mergePolicy: 'Replace' }, provided);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      const onlyMissing = / names .*which the fetched data does not have/.test(err.message) && !err.message.includes(GO_TEMPLATE_HINT);
      if (onlyMissing && hasDataFrom) {
        const names = err.message.replace(/^.* names (.*), which the fetched data does not have.*$/, '$1');
        findings.add(o, o.doc, { severity: 'info', code: 'template', message: `template for key '${key}' uses ${names}, which only dataFrom can provide: not checkable offline` }, path);
      } else {
        findings.add(o, o.doc, { severity: 'error', code: 'template', message: err.message }, path);
      }
    }
  }
}

function storeKey(kind: string, namespace: string | undefined, name: string): string {
  return kind === 'ClusterSecretStore' ? `ClusterSecretStore/${name}` : `SecretStore/${namespace ?? ''}/${name}`;
}

function isExternal(kind: string, namespace: string | undefined, name: string, externals: string[] = []): boolean {
  return externals.some((e) => {
    const parts = e.split('/');
    if (parts[0] === 'ClusterSecretStore') return kind === 'ClusterSecretStore' && parts[1] === name;
    if (kind === 'ClusterSecretStore') return false;
    const rest = parts[0] === 'SecretStore' ? parts.slice(1) : parts;
    return rest.length === 1 ? rest[0] === name : rest[0] === namespace && rest[1] === name;
  });
}

function checkStoreRef(o: ObjectRef, spec: Partial<ExternalSecretSpec>, index: ManifestIndex, findings: Findings, options: CheckOptions): void {
  const ref = asRecord(spec.secretStoreRef);
  if (typeof ref.name !== 'string') return;
  const kind = ref.kind === 'ClusterSecretStore' ? 'ClusterSecretStore' : 'SecretStore';
  const path = specPath('secretStoreRef', 'name');
  if (isExternal(kind, o.namespace, ref.name, options.externalStores)) return;
  if (kind === 'ClusterSecretStore') {
    const store = index.clusterStores.get(ref.name);
    if (!store) return notFound(o, findings, `ClusterSecretStore '${ref.name}'`, `ClusterSecretStore/${ref.name}`, path);
    checkConditions(o, store, index, findings, path);
    return;
  }
  const sameName = index.secretStores.filter((s) => s.name === ref.name);
  if (sameName.some((s) => s.namespace === o.namespace)) return;
  if (sameName.length > 0) {
    const where = sameName.map((s) => s.namespace ?? '(no namespace)').join(', ');
    findings.add(o, o.doc, { severity: 'error', code: 'store-ref', message: `SecretStore '${ref.name}' is in ${where}, not in the ExternalSecret's namespace ${o.namespace ?? '(none given)'}; a SecretStore serves only its own namespace (use a ClusterSecretStore to share one)` }, path);
    return;
  }
  notFound(o, findings, `SecretStore '${ref.name}'`, `SecretStore/${o.namespace ? `${o.namespace}/` : ''}${ref.name}`, path);
}

function notFound(o: ObjectRef, findings: Findings, what: string, flag: string, path: FieldPath): void {
  findings.add(o, o.doc, {
    severity: 'warning',
    code: 'store-ref',
    message: `${what} is not in the files checked; if it exists in the cluster, say so with --external-store ${flag}`,
  }, path);
}

function checkConditions(o: ObjectRef, store: ObjectRef, index: ManifestIndex, findings: Findings, path: FieldPath): void {
  const conditions = Array.isArray(store.spec.conditions) ? (store.spec.conditions as ClusterStoreCondition[]) : undefined;
  if (!conditions || conditions.length === 0) return;
  if (!o.namespace) {
    findings.add(o, o.doc, { severity: 'info', code: 'store-not-allowed', message: `ClusterSecretStore '${store.name}' has conditions, and this ExternalSecret names no namespace (pass --namespace to check them)` }, path);
    return;
  }
  const labels = index.namespaceLabels.get(o.namespace);
  if (safe(() => isNamespaceAllowed(conditions, o.namespace as string, labels ?? { 'kubernetes.io/metadata.name': o.namespace as string }), true)) return;
  const where = `${store.doc.source}:${store.doc.lineOf(['spec', 'conditions'])}`;
  if (!labels && conditions.some((c) => asRecord(c).namespaceSelector !== undefined)) {
    findings.add(o, o.doc, { severity: 'info', code: 'store-not-allowed', message: `ClusterSecretStore '${store.name}' allows namespace '${o.namespace}' only if its labels match a namespaceSelector (${where}); no Namespace manifest for it is in the files` }, path);
    return;
  }
  findings.add(o, o.doc, { severity: 'error', code: 'store-not-allowed', message: `ClusterSecretStore '${store.name}' does not allow namespace '${o.namespace}' (its conditions are at ${where})` }, path);
}

/** Credential references: a SecretStore reads its own namespace; a ClusterSecretStore must name one. */
function checkStore(o: ObjectRef, findings: Findings): void {
  const walk = (value: unknown, path: FieldPath): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...path, i]));
    const record = asRecord(value);
    for (const [key, child] of Object.entries(record)) {
      const isRef = /(SecretRef|^secretRef|serviceAccountRef)$/.test(key) && typeof asRecord(child).name === 'string';
      if (isRef) checkCredentialRef(o, asRecord(child), [...path, key], findings);
      else if (child && typeof child === 'object') walk(child, [...path, key]);
    }
  };
  walk(o.spec.provider, ['spec', 'provider']);
  checkVaultClientCertificates(o, findings);
  const conditions = Array.isArray(o.spec.conditions) ? (o.spec.conditions as unknown[]) : [];
  conditions.forEach((c, i) => {
    const regexes = asRecord(c).namespaceRegexes;
    (Array.isArray(regexes) ? regexes : []).forEach((source, j) => {
      if (typeof source !== 'string') return;
      try {
        compilePattern(source);
      } catch (err) {
        if (!(err instanceof PatternError)) throw err;
        const field = `spec.conditions[${i}].namespaceRegexes[${j}]`;
        findings.add(o, o.doc, { severity: 'error', code: 'pattern', message: `${field} ${err.message}; it would allow no namespace` }, parseField(field));
      }
    });
  });
}

/** A Vault client certificate (tls, auth.cert) is presented in the TLS handshake: the operator refuses it over plain http. */
function checkVaultClientCertificates(o: ObjectRef, findings: Findings): void {
  const vault = asRecord(asRecord(o.spec.provider).vault);
  if (typeof vault.server !== 'string' || !vault.server.startsWith('http:')) return;
  const fields: [string, unknown][] = [['tls', vault.tls], ['auth.cert', asRecord(vault.auth).cert]];
  for (const [field, value] of fields) {
    if (value === undefined) continue;
    const path = parseField(`spec.provider.vault.${field}`);
    findings.add(o, o.doc, { severity: 'error', code: 'provider-config', message: `spec.provider.vault.${field} needs an https server: the client certificate is presented in the TLS handshake (server is '${vault.server}')` }, path);
  }
}

function checkCredentialRef(o: ObjectRef, ref: Record<string, unknown>, path: FieldPath, findings: Findings): void {
  const what = path[path.length - 1] === 'serviceAccountRef' ? `ServiceAccount '${String(ref.name)}'` : `Secret '${String(ref.name)}'`;
  if (o.kind === 'ClusterSecretStore' && ref.namespace === undefined) {
    findings.add(o, o.doc, { severity: 'error', code: 'credential-ref', message: `a ClusterSecretStore must name the namespace of ${what} (${formatPath(path)}.namespace)` }, path);
  }
  if (o.kind === 'SecretStore' && ref.namespace !== undefined && o.namespace !== undefined && ref.namespace !== o.namespace) {
    findings.add(o, o.doc, { severity: 'error', code: 'credential-ref', message: `a SecretStore reads ${what} from its own namespace '${o.namespace}'; remove namespace '${String(ref.namespace)}'` }, [...path, 'namespace']);
  }
}

function checkDuplicates(objects: ObjectRef[], findings: Findings): void {
  const seen = new Map<string, ObjectRef>();
  const targets = new Map<string, ObjectRef>();
  for (const o of objects) {
    const key = o.kind === 'ClusterSecretStore' ? storeKey(o.kind, undefined, o.name) : `${o.kind}/${o.namespace ?? ''}/${o.name}`;
    const first = seen.get(key);
    if (first) findings.add(o, o.doc, { severity: 'error', code: 'duplicate', message: `${o.kind} '${o.name}' is also defined at ${first.doc.source}:${first.doc.lineOf(['metadata', 'name'])}; the later one wins at apply` }, ['metadata', 'name']);
    else seen.set(key, o);
    if (o.kind !== 'ExternalSecret') continue;
    const target = asRecord(o.spec.target);
    if (target.creationPolicy === 'Merge' || target.creationPolicy === 'None') continue;
    const secret = typeof target.name === 'string' ? target.name : o.name;
    const tkey = `${o.namespace ?? ''}/${secret}`;
    const owner = targets.get(tkey);
    if (owner && owner !== first) {
      findings.add(o, o.doc, { severity: 'error', code: 'target-clash', message: `Secret '${secret}' is also written by ExternalSecret '${owner.name}' (${owner.doc.source}:${owner.doc.lineOf(['metadata', 'name'])}); the second reports TargetConflict (use creationPolicy Merge to share a Secret)` }, ['spec', 'target', 'name']);
    } else if (!owner) targets.set(tkey, o);
  }
}
