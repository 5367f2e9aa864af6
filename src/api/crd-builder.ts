/**
 * Builds the CustomResourceDefinitions from the zod schemas — the only place the API is written.
 * `lockstep gen-crds` writes them to crds/ and config/crd/bases/; `make verify` checks they are current.
 */
import { z } from 'zod';
import { GROUP, VERSION } from './constants.js';
import { ExternalSecretSpec, ExternalSecretStatus } from './external-secret.js';
import { ClusterSecretStoreSpec, SecretStoreSpec, SecretStoreStatus } from './secret-store.js';

type JsonSchema = Record<string, unknown>;

interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'boolean';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: PrinterColumn[];
}

const READY = '.status.conditions[?(@.type=="Ready")]';
const readyColumns: PrinterColumn[] = [
  { name: 'Ready', type: 'string', jsonPath: `${READY}.status` },
  { name: 'Reason', type: 'string', jsonPath: `${READY}.reason` },
];
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
/** A store's last complete refresh round: when its ExternalSecrets were last read. */
const refreshedColumn: PrinterColumn = { name: 'Refreshed', type: 'date', jsonPath: '.status.refresh.time' };

export const Kinds: KindDefinition[] = [
  {
    kind: 'ExternalSecret',
    plural: 'externalsecrets',
    singular: 'externalsecret',
    shortNames: ['lses'],
    scope: 'Namespaced',
    description: 'Keeps a Kubernetes Secret in lockstep with secrets held in an external secret manager.',
    spec: ExternalSecretSpec,
    status: ExternalSecretStatus,
    columns: [
      ...readyColumns,
      { name: 'Store', type: 'string', jsonPath: '.spec.secretStoreRef.name' },
      // refreshTime moves when the values change (or first sync), not on an unchanged refresh.
      { name: 'Changed', type: 'date', jsonPath: '.status.refreshTime' },
      ageColumn,
      { name: 'Message', type: 'string', jsonPath: `${READY}.message`, priority: 1 },
    ],
  },
  {
    kind: 'SecretStore',
    plural: 'secretstores',
    singular: 'secretstore',
    shortNames: ['lsss'],
    scope: 'Namespaced',
    description: 'A secret manager and the credentials to read it, usable from its own namespace.',
    spec: SecretStoreSpec,
    status: SecretStoreStatus,
    columns: [...readyColumns, refreshedColumn, ageColumn, { name: 'Message', type: 'string', jsonPath: `${READY}.message`, priority: 1 }],
  },
  {
    kind: 'ClusterSecretStore',
    plural: 'clustersecretstores',
    singular: 'clustersecretstore',
    shortNames: ['lscss'],
    scope: 'Cluster',
    description: 'A secret manager usable from the namespaces its conditions allow.',
    spec: ClusterSecretStoreSpec,
    status: SecretStoreStatus,
    columns: [...readyColumns, refreshedColumn, ageColumn, { name: 'Message', type: 'string', jsonPath: `${READY}.message`, priority: 1 }],
  },
];

/** zod's JSON Schema, made structural and default-free for a CRD. */
export function buildOpenApiSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', reused: 'inline' }) as JsonSchema;
  return cleanSchema(json);
}

const SAFE_INT = Number.MAX_SAFE_INTEGER;

function cleanSchema(node: unknown): JsonSchema {
  if (Array.isArray(node)) return node.map(cleanSchema) as unknown as JsonSchema;
  if (node === null || typeof node !== 'object') return node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    // Defaults are applied by the controller when it reads an object, never by the API server:
    // a server-side default shows up as drift in GitOps tools.
    if (key === 'default' || key === '$schema' || key === 'id') continue;
    if (key === 'additionalProperties' && value === false) continue;
    if ((key === 'minimum' && value === -SAFE_INT) || (key === 'maximum' && value === SAFE_INT)) continue;
    if (key === 'x-kubernetes-validations') {
      out[key] = value;
      continue;
    }
    out[key] = cleanSchema(value);
  }
  return out;
}

export function buildCrd(def: KindDefinition): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['lockstep'],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: buildOpenApiSchema(def.spec),
                status: buildOpenApiSchema(def.status),
              },
            },
          },
        },
      ],
    },
  };
}

export function buildCrds(): JsonSchema[] {
  return Kinds.map(buildCrd);
}

export function crdFileName(def: KindDefinition): string {
  return `${GROUP}_${def.plural}.yaml`;
}
