// What every provider test server's harness needs: its install.sh run once per process, a free
// loopback port, and a pause.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export { freePort } from '../support/operator.js';

const run = promisify(execFile);
const installs = new Map<string, Promise<string>>();

/** Runs `<dir>/install.sh` once per process; resolves with the last line it printed (a path). */
export function runInstallScript(dir: string, timeoutMs: number): Promise<string> {
  let installed = installs.get(dir);
  if (!installed) {
    installed = run('bash', [join(dir, 'install.sh')], { timeout: timeoutMs }).then(({ stdout }) => {
      const path = stdout.trim().split('\n').at(-1);
      if (!path) throw new Error(`${join(dir, 'install.sh')} printed no path`);
      return path;
    });
    installs.set(dir, installed);
  }
  return installed;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
