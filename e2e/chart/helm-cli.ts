// Runs the helm binary that e2e/node/install.sh builds (or $HELM), and parses what it renders.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHART = join(ROOT, 'charts/lockstep');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never rejects on a non-zero exit (the caller reads `code`). */
export function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { cwd: ROOT, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** The helm binary: $HELM, else the one e2e/node/install.sh builds (its last stdout line is the folder). */
export async function findHelm(): Promise<string> {
  if (process.env.HELM) return process.env.HELM;
  const installed = await run('bash', [join(ROOT, 'e2e/node/install.sh')]);
  if (installed.code !== 0) throw new Error(`e2e/node/install.sh failed: ${installed.stderr.trim().split('\n').slice(-5).join('\n')}`);
  const folder = installed.stdout.trim().split('\n').pop() ?? '';
  return join(folder, 'helm');
}

export interface Helm {
  run(args: string[], input?: string): Promise<RunResult>;
  /** `helm template` of the chart; rejects with helm's stderr when it fails. */
  template(releaseNamespace: string, valuesYaml?: string, extraArgs?: string[]): Promise<string>;
}

/** A helm that keeps its config, cache and data in a temporary folder, away from $HOME. */
export function buildHelm(binary: string): Helm {
  const home = mkdtempSync(join(tmpdir(), 'lockstep-helm-'));
  const env = {
    ...process.env,
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  const helm = (args: string[], input?: string) => run(binary, args, { input, env });
  return {
    run: helm,
    async template(releaseNamespace, valuesYaml, extraArgs = []) {
      const valuesArgs = valuesYaml === undefined ? [] : ['--values', '-'];
      const result = await helm(['template', 'lockstep', CHART, '--namespace', releaseNamespace, ...valuesArgs, ...extraArgs], valuesYaml);
      if (result.code !== 0) throw new Error(result.stderr.trim());
      return result.stdout;
    },
  };
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export function parseManifests(yaml: string): Manifest[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

export function findManifest(manifests: Manifest[], kind: string, namespace?: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && (namespace === undefined || m.metadata.namespace === namespace));
  if (!found) throw new Error(`no ${kind}${namespace ? ` in ${namespace}` : ''} rendered`);
  return found;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
}

/** A rule list as sorted `group/resource[/name]:verb` permissions, to compare what two lists grant. */
export function computePermissions(rules: PolicyRule[]): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        for (const name of rule.resourceNames ?? ['*']) {
          for (const verb of rule.verbs ?? []) out.add(`${group}/${resource}/${name}:${verb}`);
        }
      }
    }
  }
  return [...out].sort();
}
