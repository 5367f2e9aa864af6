// Summarises a V8 heap snapshot (from `sync-bench.ts --heap-snapshot`): the live set by kind of
// object, largest first, so "what holds the memory" can be read without DevTools.
//
//   tsx bench/heap-summary.ts bench/results/operator-n2000-….heapsnapshot [--top 30]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: tsx bench/heap-summary.ts FILE.heapsnapshot [--top 30]\n');
  process.exit(2);
}
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const iType = fields.indexOf('type');
const iName = fields.indexOf('name');
const iSize = fields.indexOf('self_size');

const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + iType] as number] ?? '?';
  const size = snap.nodes[i + iSize] as number;
  total += size;
  // Strings and code are grouped by type; objects by constructor name.
  const name = type === 'object' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + iName] as number] ?? '?'}` : type;
  const g = groups.get(name) ?? { count: 0, bytes: 0 };
  g.count++;
  g.bytes += size;
  groups.set(name, g);
}
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const rows = [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top));
process.stdout.write(`heap snapshot ${file}: ${mb(total)} MB in ${snap.nodes.length / width} objects (self sizes)\n\n`);
for (const [name, g] of rows) process.stdout.write(`${mb(g.bytes).padStart(8)} MB  ${String(g.count).padStart(9)}  ${name.slice(0, 90)}\n`);
