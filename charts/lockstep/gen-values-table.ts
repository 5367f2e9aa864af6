// Writes the values table of README.md (between the values:start and values:end markers) from
// values.schema.json (types, enums, descriptions) and values.yaml (defaults).
//   node_modules/.bin/tsx charts/lockstep/gen-values-table.ts          rewrite README.md
//   node_modules/.bin/tsx charts/lockstep/gen-values-table.ts --check  exit 1 if it is stale
// It also fails when a key of values.yaml has no description in the schema, or the reverse.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const CHART = import.meta.dirname;
const START = '<!-- values:start -->';
const END = '<!-- values:end -->';

interface SchemaNode {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
}

interface Row {
  key: string;
  type: string;
  defaultValue: unknown;
  description: string;
}

/** One row per leaf: an object with declared properties is a section, anything else a value. */
export function buildRows(node: SchemaNode, values: unknown, prefix = ''): { rows: Row[]; problems: string[] } {
  const rows: Row[] = [];
  const problems: string[] = [];
  const props = node.properties ?? {};
  const given = isRecord(values) ? values : {};
  for (const key of Object.keys(given)) {
    if (!(key in props)) problems.push(`${prefix}${key} is in values.yaml but not in values.schema.json`);
  }
  for (const [key, child] of Object.entries(props)) {
    const path = `${prefix}${key}`;
    if (child.properties) {
      const nested = buildRows(child, given[key], `${path}.`);
      rows.push(...nested.rows);
      problems.push(...nested.problems);
      continue;
    }
    if (!(key in given)) {
      if (path !== 'global') problems.push(`${path} is in values.schema.json but has no default in values.yaml`);
      continue;
    }
    if (!child.description) problems.push(`${path} has no description in values.schema.json`);
    rows.push({ key: path, type: computeType(child), defaultValue: given[key], description: child.description ?? '' });
  }
  return { rows, problems };
}

function computeType(node: SchemaNode): string {
  const types = Array.isArray(node.type) ? node.type : [node.type ?? 'any'];
  const base = types.join(' or ');
  return node.enum ? `${base}: ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}` : base;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function buildTable(rows: Row[]): string {
  const lines = ['| key | type | default | description |', '|---|---|---|---|'];
  for (const row of rows) {
    const shown = `\`${JSON.stringify(row.defaultValue)}\``;
    lines.push(`| \`${row.key}\` | ${cell(row.type)} | ${cell(shown)} | ${cell(row.description)} |`);
  }
  return lines.join('\n');
}

export function replaceBetweenMarkers(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} section`);
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

function main(args: string[]): number {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as SchemaNode;
  const values: unknown = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
  const { rows, problems } = buildRows(schema, values);
  if (problems.length > 0) {
    process.stderr.write(`values.yaml and values.schema.json disagree:\n  ${problems.join('\n  ')}\n`);
    return 1;
  }
  const readmePath = join(CHART, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const updated = replaceBetweenMarkers(readme, buildTable(rows));
  if (args.includes('--check')) {
    if (updated === readme) return 0;
    process.stderr.write('charts/lockstep/README.md: the values table is stale; run node_modules/.bin/tsx charts/lockstep/gen-values-table.ts\n');
    return 1;
  }
  if (updated !== readme) writeFileSync(readmePath, updated);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
