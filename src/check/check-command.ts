/**
 * `lockstep check [flags] PATH...`: offline validation of Lockstep manifests for CI.
 * Exit codes: 0 no errors (warnings allowed unless --fail-on warning), 1 findings at or above the
 * --fail-on level, 2 a usage error or an input that cannot be read.
 */
import { parseArgs } from 'node:util';
import { checkManifests, type Finding, type Severity } from './check-manifests.js';
import { InputError, readManifests } from './manifest-reader.js';

export const CHECK_USAGE = `usage: lockstep check [flags] PATH...

Validates Lockstep manifests offline (no cluster): the CRD schema, templates, regular expressions,
store references and ClusterSecretStore conditions. PATH is a file, a directory (every *.yaml and
*.yml below it) or - for stdin; multi-document YAML and helm template output are read as they are.

flags:
  -o, --output text|json     findings as text lines (default) or one JSON object
  -n, --namespace NS         the namespace of objects that name none (as kubectl apply -n would)
      --external-store REF   a store that exists outside the files: SecretStore/NAME,
                             SecretStore/NAMESPACE/NAME or ClusterSecretStore/NAME (repeatable)
      --fail-on LEVEL        error (default) or warning: the lowest severity that fails the check
  -q, --quiet                print errors only (text output)

exit codes: 0 passed, 1 findings at or above --fail-on, 2 usage or unreadable input
`;

const RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

export interface CheckResult {
  files: number;
  objects: number;
  findings: Finding[];
  counts: Record<Severity, number>;
}

export function formatText(result: CheckResult, quiet = false): string {
  const lines = result.findings
    .filter((f) => !quiet || f.severity === 'error')
    .map((f) => {
      const who = f.kind ? ` ${f.kind}${f.name ? ` ${f.namespace ? `${f.namespace}/` : ''}${f.name}` : ''}:` : '';
      return `${f.source}:${f.line}: ${f.severity} [${f.code}]${who} ${f.message}`;
    });
  const { error, warning, info } = result.counts;
  lines.push(`${result.files} file(s), ${result.objects} document(s): ${error} error(s), ${warning} warning(s), ${info} note(s)`);
  return `${lines.join('\n')}\n`;
}

export async function runCheckCommand(args: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o', default: 'text' },
        namespace: { type: 'string', short: 'n' },
        'external-store': { type: 'string', multiple: true },
        'fail-on': { type: 'string', default: 'error' },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    err(`lockstep check: ${(e as Error).message}\n${CHECK_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(CHECK_USAGE);
    return 0;
  }
  const failOn = values['fail-on'] as Severity;
  if (!['text', 'json'].includes(values.output) || !['error', 'warning'].includes(failOn) || positionals.length === 0) {
    err(CHECK_USAGE);
    return 2;
  }
  let files;
  try {
    files = await readManifests(positionals);
  } catch (e) {
    if (!(e instanceof InputError) && (e as NodeJS.ErrnoException).code === undefined) throw e;
    err(`lockstep check: ${(e as Error).message}\n`);
    return 2;
  }
  const findings = checkManifests(files, { namespace: values.namespace, externalStores: values['external-store'] });
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  const result: CheckResult = { files: files.length, objects: files.reduce((n, f) => n + f.documents.length, 0), findings, counts };
  out(values.output === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatText(result, values.quiet));
  return findings.some((f) => RANK[f.severity] >= RANK[failOn]) ? 1 : 0;
}
