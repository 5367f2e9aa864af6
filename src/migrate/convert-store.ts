/** ESO SecretStore / ClusterSecretStore → Lockstep, with the four cloud providers and fake. */
import type { FieldPath } from '../check/manifest-reader.js';
import type { ObjectMigration } from './object-migration.js';
import { convertAws, convertAzure, convertGcp, convertVault } from './convert-providers.js';

export interface StoreContext {
  clusterScoped: boolean;
  namespace: string | undefined;
  /** PROJECT/LOCATION/NAME of the GKE cluster, for workload identity stores that do not name it. */
  gkeCluster?: string;
  /** Annotations of a ServiceAccount found among the inputs (GKE and Azure workload identity read them). */
  serviceAccountAnnotations(namespace: string | undefined, name: string): Record<string, string> | undefined;
}

const PROVIDERS: Record<string, { to: string; convert?: (m: ObjectMigration, path: FieldPath, ctx: StoreContext) => void }> = {
  aws: { to: 'aws', convert: convertAws },
  vault: { to: 'vault', convert: convertVault },
  gcpsm: { to: 'gcp', convert: convertGcp },
  azurekv: { to: 'azure', convert: convertAzure },
  fake: { to: 'fake', convert: convertFake },
};

export function convertStore(m: ObjectMigration, ctx: StoreContext): void {
  const spec: FieldPath = ['spec'];
  m.drop('dropped', [...spec, 'controller'], 'controller (ESO controller class): every Lockstep operator serves every store');
  m.drop('dropped', [...spec, 'retrySettings'], 'retrySettings: Lockstep retries provider errors with its own backoff');
  m.drop('dropped', [...spec, 'refreshInterval'], "refreshInterval: ESO's is how often the store is re-validated; Lockstep's is the default refresh of the store's ExternalSecrets (the default 1h applies)");
  convertConditions(m, ctx);
  m.dropUnknown(spec, ['provider', 'conditions'], 'spec field');
  const providers = m.keys([...spec, 'provider']);
  for (const name of providers) {
    const provider = PROVIDERS[name];
    const from: FieldPath = [...spec, 'provider', name];
    if (!provider) {
      m.drop('unsupported', from, `the provider '${name}' is not one Lockstep has (aws, vault, gcpsm, azurekv, fake)`);
      continue;
    }
    if (provider.to !== name) m.move(from, [...spec, 'provider', provider.to]);
    provider.convert?.(m, [...spec, 'provider', provider.to], ctx);
  }
}

function convertConditions(m: ObjectMigration, ctx: StoreContext): void {
  const conditions: FieldPath = ['spec', 'conditions'];
  if (!m.has(conditions)) return;
  if (!ctx.clusterScoped) {
    m.drop('dropped', conditions, 'conditions apply only to a ClusterSecretStore');
    return;
  }
  for (let i = m.length(conditions) - 1; i >= 0; i--) {
    const c = [...conditions, i];
    m.dropUnknown(c, ['namespaces', 'namespaceSelector', 'namespaceRegexes'], 'condition field');
    if (m.keys(c).length === 0) m.remove(c);
  }
  if (m.length(conditions) === 0) {
    m.set(conditions, [{ namespaces: [] }]);
    m.report('unsupported', conditions, 'no condition is left, so the store allows no namespace (fail closed) until you list them');
  }
}

/** ESO's fake provider: data entries with value or valueMap (a map served as a JSON object). */
function convertFake(m: ObjectMigration, path: FieldPath): void {
  const data = [...path, 'data'];
  for (let i = 0; i < m.length(data); i++) {
    const entry = [...data, i];
    const valueMap = m.get([...entry, 'valueMap']);
    if (valueMap !== undefined) {
      m.remove([...entry, 'valueMap']);
      if (!m.has([...entry, 'value'])) m.set([...entry, 'value'], JSON.stringify(valueMap));
    }
    m.dropUnknown(entry, ['key', 'value', 'version'], 'fake data field');
  }
  if (!m.has(data)) m.set(data, []);
  m.dropUnknown(path, ['data'], 'fake provider field');
}
