// What every provider test server's harness needs: its install.sh run once per process, a free
// loopback port, a pause, and the server's process started, awaited and stopped by pid.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
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

export interface PeerProcessSpec {
  /** Names the server in errors ("moto_server"). */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here, across restarts. */
  logFile: string;
  /** An IPC channel to the child (a Node peer that reports over `process.send`). */
  ipc?: boolean;
  /** Called with each new child, before readiness is awaited (to listen for its messages). */
  onSpawn?: (child: ChildProcess) => void;
  /** True once the server answers; polled every `pollMs` until `startTimeoutMs`. */
  probe: () => Promise<boolean>;
  startTimeoutMs: number;
  pollMs?: number;
}

/**
 * One test server's process: started and awaited, stopped by pid (SIGTERM, then SIGKILL after 3 s),
 * restartable with the same arguments, and killed when the test process exits even if a test
 * failed before its teardown.
 */
export class PeerProcess {
  private child: ChildProcess | undefined;

  constructor(private readonly spec: PeerProcessSpec) {
    process.once('exit', () => this.child?.kill('SIGKILL'));
  }

  /** The running child, if any. */
  get process(): ChildProcess | undefined {
    return this.child;
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const { spec } = this;
    const log = await open(spec.logFile, 'a');
    const stdio: ('ignore' | number | 'ipc')[] = ['ignore', log.fd, log.fd, ...(spec.ipc ? ['ipc' as const] : [])];
    const child = spawn(spec.command, spec.args, { env: spec.env, cwd: spec.cwd, stdio });
    this.child = child;
    await log.close();
    spec.onSpawn?.(child);
    const deadline = Date.now() + spec.startTimeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${spec.name} exited (${child.exitCode ?? child.signalCode}); see ${spec.logFile}`);
      }
      if (await spec.probe().catch(() => false)) return;
      await sleep(spec.pollMs ?? 50);
    }
    throw new Error(`${spec.name} was not ready within ${spec.startTimeoutMs} ms; see ${spec.logFile}`);
  }

  /** Idempotent. */
  stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((ok) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(force);
        ok();
      });
      child.kill('SIGTERM');
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
