/**
 * `lockstep migrate [flags] PATH...`: External Secrets Operator manifests → Lockstep.
 * Exit codes: 0 every ESO object converted faithfully, 1 some object has parts that could not be
 * converted (listed with their reason and line), 2 a usage error or an input that cannot be read.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError, readManifests } from '../check/manifest-reader.js';
import { migrateManifests, type MigratedFile } from './migrate-manifests.js';

export const MIGRATE_USAGE = `usage: lockstep migrate [flags] PATH...

Converts External Secrets Operator manifests (ExternalSecret, SecretStore, ClusterSecretStore;
external-secrets.io v1, v1beta1, v1alpha1) into Lockstep's. PATH is a file, a directory (every
*.yaml and *.yml below it) or - for stdin; multi-document YAML and helm template output are read
as they are. Other documents are kept byte for byte; converted ones keep their names, namespaces,
labels, annotations, comments and order. Go templates become Mustache.

By default the converted YAML goes to stdout and the report to stderr.

flags:
  -w, --in-place             rewrite the files that hold ESO objects
      --out-dir DIR          write every input file, converted, under DIR (same relative paths)
      --report text|json     the report's form on stderr (default text)
  -n, --namespace NS         the namespace of objects that name none (to find ServiceAccounts)
      --target-suffix SUFFIX side by side with ESO: each ExternalSecret writes its Secret's name
                             plus SUFFIX (e.g. -lockstep), so both Secrets can be compared
      --gke-cluster P/L/N    the GKE cluster (project/location/name) for workload identity
                             stores that do not name it (ESO reads it from the metadata server)

exit codes: 0 all converted, 1 some parts could not be converted (see the report), 2 usage or
unreadable input
`;

export function formatReport(files: MigratedFile[]): string {
  const lines: string[] = [];
  const objects = files.flatMap((f) => f.objects);
  for (const o of objects) {
    const who = `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
    lines.push(`${o.source}:${o.line}: ${who}: ${o.outcome}`);
    for (const p of o.problems) lines.push(`  ${o.source}:${p.line}: ${p.level}: ${p.field}: ${p.message}`);
  }
  const count = (outcome: string) => objects.filter((o) => o.outcome === outcome).length;
  lines.push(`${objects.length} ESO object(s) in ${files.length} file(s): ${count('converted')} converted, ${count('partial')} partly converted, ${count('skipped')} left as they were`);
  return `${lines.join('\n')}\n`;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  write: (path: string, text: string) => Promise<void>;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  write: async (path, text) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  },
};

export async function runMigrateCommand(args: string[], io: Io = defaultIo): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'in-place': { type: 'boolean', short: 'w', default: false },
        'out-dir': { type: 'string' },
        report: { type: 'string', default: 'text' },
        namespace: { type: 'string', short: 'n' },
        'target-suffix': { type: 'string' },
        'gke-cluster': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    io.err(`lockstep migrate: ${(e as Error).message}\n${MIGRATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(MIGRATE_USAGE);
    return 0;
  }
  const gke = values['gke-cluster'];
  const suffix = values['target-suffix'];
  const bad = positionals.length === 0 ||
    (gke !== undefined && !/^[^/\s]+\/[^/\s]+\/[^/\s]+$/.test(gke)) ||
    (suffix !== undefined && !/^[-.a-z0-9]+$/.test(suffix)) || !['text', 'json'].includes(values.report) || (values['in-place'] && values['out-dir'] !== undefined) || (values['in-place'] && positionals.includes('-'));
  if (bad) {
    io.err(MIGRATE_USAGE);
    return 2;
  }
  let inputs;
  try {
    inputs = await readManifests(positionals);
  } catch (e) {
    if (!(e instanceof InputError) && (e as NodeJS.ErrnoException).code === undefined) throw e;
    io.err(`lockstep migrate: ${(e as Error).message}\n`);
    return 2;
  }
  const syntax = inputs.flatMap((f) => f.documents.flatMap((d) => d.errors.map((e) => `${f.source}:${e.line}: ${e.message}`)));
  if (syntax.length > 0) {
    io.err(`lockstep migrate: YAML errors, nothing converted:\n${syntax.join('\n')}\n`);
    return 2;
  }
  const files = migrateManifests(inputs, { namespace: values.namespace, targetSuffix: suffix, gkeCluster: gke });
  await emit(files, values['in-place'], values['out-dir'], io);
  io.err(values.report === 'json' ? `${JSON.stringify({ files: files.map(({ source, changed, objects }) => ({ source, changed, objects })) }, null, 2)}\n` : formatReport(files));
  return files.some((f) => f.objects.some((o) => o.outcome !== 'converted')) ? 1 : 0;
}

async function emit(files: MigratedFile[], inPlace: boolean, outDir: string | undefined, io: Io): Promise<void> {
  if (inPlace) {
    for (const f of files) if (f.changed) await io.write(f.source, f.text);
    return;
  }
  if (outDir !== undefined) {
    for (const f of files) {
      const rel = f.source === '<stdin>' ? 'stdin.yaml' : isAbsolute(f.source) ? f.source.slice(1) : f.source.replace(/^(\.\.\/)+/, '');
      await io.write(join(outDir, rel), f.text);
    }
    return;
  }
  files.forEach((f, i) => {
    const sep = i === 0 ? '' : f.text.startsWith('---') ? '' : '---\n';
    io.out(`${sep}${f.text}${f.text.endsWith('\n') || f.text === '' ? '' : '\n'}`);
  });
}
