/**
 * Validates an object against a CRD's structural schema (built from the zod schemas in src/api by
 * crd-builder, the same that `make generate` writes), the way the API server would: types,
 * required fields, enums, patterns, lengths, min/max properties, the CEL rules — and reports
 * fields the schema does not know, which the API server would silently drop.
 */
import { CelUnsupported, evaluateRule } from './cel-rules.js';
import type { FieldPath } from './manifest-reader.js';

export type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  minProperties?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
};

export interface SchemaIssue {
  path: FieldPath;
  /** unknown: a field the schema lacks; invalid: a value the API server would refuse; unchecked: a rule beyond the offline subset. */
  kind: 'invalid' | 'unknown' | 'unchecked';
  message: string;
}

const describe = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);

function typeMatches(type: string | undefined, value: unknown): boolean {
  switch (type) {
    case undefined:
      return true;
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return typeof value === type;
  }
}

export function validateSchema(schema: JsonSchema, value: unknown, path: FieldPath = []): SchemaIssue[] {
  if (!typeMatches(schema.type, value)) {
    return [{ path, kind: 'invalid', message: `must be ${schema.type === 'integer' ? 'an integer' : `a${schema.type === 'object' || schema.type === 'array' ? 'n' : ''} ${schema.type}`}, not ${describe(value)}` }];
  }
  const issues = checkScalar(schema, value, path);
  if (Array.isArray(value)) issues.push(...checkArray(schema, value, path));
  else if (schema.type === 'object') issues.push(...checkObject(schema, value as Record<string, unknown>, path));
  if (issues.some((i) => i.kind === 'invalid')) return issues;
  for (const { rule, message } of schema['x-kubernetes-validations'] ?? []) {
    try {
      if (!evaluateRule(rule, value)) issues.push({ path, kind: 'invalid', message: message ?? `fails the rule ${rule}` });
    } catch (err) {
      if (!(err instanceof CelUnsupported)) throw err;
      issues.push({ path, kind: 'unchecked', message: `the rule "${rule}" cannot be checked offline (${err.message})` });
    }
  }
  return issues;
}

function checkScalar(schema: JsonSchema, value: unknown, path: FieldPath): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const bad = (message: string) => issues.push({ path, kind: 'invalid', message });
  if (schema.enum && !schema.enum.some((e) => e === value)) bad(`must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, not ${JSON.stringify(value)}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) bad(schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) bad(`must be at most ${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) bad(`${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum === true ? value <= schema.minimum : value < schema.minimum)) bad(`must be ${schema.exclusiveMinimum === true ? 'greater than' : 'at least'} ${schema.minimum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) bad(`must be greater than ${schema.exclusiveMinimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) bad(`must be at most ${schema.maximum}`);
  }
  return issues;
}

function checkArray(schema: JsonSchema, value: unknown[], path: FieldPath): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  if (schema.minItems !== undefined && value.length < schema.minItems) issues.push({ path, kind: 'invalid', message: `must have at least ${schema.minItems} items` });
  if (schema.maxItems !== undefined && value.length > schema.maxItems) issues.push({ path, kind: 'invalid', message: `must have at most ${schema.maxItems} items` });
  if (schema.items) value.forEach((item, i) => issues.push(...validateSchema(schema.items as JsonSchema, item, [...path, i])));
  return issues;
}

function checkObject(schema: JsonSchema, value: Record<string, unknown>, path: FieldPath): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const keys = Object.keys(value);
  for (const name of schema.required ?? []) {
    if (!(name in value)) issues.push({ path: [...path, name], kind: 'invalid', message: 'is required' });
  }
  if (schema.minProperties !== undefined && keys.length < schema.minProperties) {
    issues.push({ path, kind: 'invalid', message: `must set at least ${schema.minProperties} of ${listFields(schema)}` });
  }
  if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
    issues.push({ path, kind: 'invalid', message: `must set at most ${schema.maxProperties} of ${listFields(schema)}; it sets ${keys.join(', ')}` });
  }
  for (const key of keys) {
    const child = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (child) issues.push(...validateSchema(child, value[key], [...path, key]));
    else if (schema.properties || schema.additionalProperties === false) issues.push({ path: [...path, key], kind: 'unknown', message: 'is not a field of this API' });
  }
  return issues;
}

function listFields(schema: JsonSchema): string {
  return Object.keys(schema.properties ?? {}).join(', ') || 'its fields';
}
