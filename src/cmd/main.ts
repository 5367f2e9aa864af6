#!/usr/bin/env node
/** The `lockstep` command: `controller` runs the operator; `gen-crds` writes the CRDs. */
import { parseArgs } from 'node:util';

const USAGE = `usage: lockstep <command> [flags]

commands:
  controller   run the operator (see \`lockstep controller --help\`)
  agent        write an ExternalSecret's files in a pod (delivery Files; injected by the operator's webhook)
  gen-crds     write the CRDs generated from the API schemas (--out DIR ..., --check)
  check        validate Lockstep manifests offline, for CI (see \`lockstep check --help\`)
  migrate      convert External Secrets Operator manifests to Lockstep (see \`lockstep migrate --help\`)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'controller': {
      const { runControllerCommand } = await import('./controller-command.js');
      return runControllerCommand(rest);
    }
    case 'agent': {
      const { runAgentCommand } = await import('../delivery/agent.js');
      return runAgentCommand(rest);
    }
    case 'check': {
      const { runCheckCommand } = await import('../check/check-command.js');
      return runCheckCommand(rest);
    }
    case 'migrate': {
      const { runMigrateCommand } = await import('../migrate/migrate-command.js');
      return runMigrateCommand(rest);
    }
    case 'gen-crds': {
      // Loaded only here: the CRD builder and `yaml` are no part of the operator's start.
      const { genCrds } = await import('./gen-crds.js');
      const { values } = parseArgs({
        args: rest,
        options: { out: { type: 'string', multiple: true }, check: { type: 'boolean', default: false } },
      });
      const dirs = values.out ?? ['crds', 'config/crd/bases'];
      const stale = await genCrds(dirs, values.check ?? false);
      if (values.check && stale.length > 0) {
        process.stderr.write(`CRDs are out of date (run \`make generate\`): ${stale.join(', ')}\n`);
        return 1;
      }
      return 0;
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`lockstep: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
