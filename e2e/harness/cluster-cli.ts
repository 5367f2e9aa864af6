// Starts a local control plane that outlives this process, for `make cluster-up` and manual work.
//   tsx e2e/harness/cluster-cli.ts up [--dir .cluster] [--no-controller-manager]  -> prints kubeconfig path
//   tsx e2e/harness/cluster-cli.ts down [--dir .cluster]
//   tsx e2e/harness/cluster-cli.ts status [--dir .cluster]
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane, statusFromDir, stopFromDir } from './control-plane.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { dir: { type: 'string', default: '.cluster' }, 'no-controller-manager': { type: 'boolean', default: false } },
});
const dir = resolve(values.dir);
const kubeconfigPath = join(dir, 'kubeconfig');
const status = statusFromDir(dir);
const running = status !== undefined && Object.values(status).every(Boolean);

switch (positionals[0]) {
  case 'up':
    if (running) {
      console.error(`control plane already running in ${dir}`);
    } else {
      const started = Date.now();
      const cp = await startControlPlane({ dir, detached: true, controllerManager: !values['no-controller-manager'] });
      console.error(`control plane up at ${cp.server} in ${Date.now() - started} ms; logs and pids.json in ${dir}`);
    }
    console.log(kubeconfigPath);
    break;
  case 'down':
    await stopFromDir(dir);
    console.error(`control plane in ${dir} stopped`);
    break;
  case 'status':
    console.log(JSON.stringify({ dir, kubeconfigPath, running, processes: status ?? {} }, null, 2));
    process.exitCode = running ? 0 : 1;
    break;
  default:
    console.error('usage: cluster-cli.ts up|down|status [--dir DIR] [--no-controller-manager]');
    process.exitCode = 2;
}
