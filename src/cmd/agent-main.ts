#!/usr/bin/env node
/** The agent alone (the image's /app/agent.mjs): the sidecar loads nothing of the operator. */
import { runAgentCommand } from '../delivery/agent.js';

runAgentCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`lockstep agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
