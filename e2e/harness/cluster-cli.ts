// Starts a local cluster that outlives this process, for `make cluster-up` and manual work.
//   tsx e2e/harness/cluster-cli.ts up [--dir .cluster] [--no-controller-manager] [--node]  -> prints kubeconfig path
//   tsx e2e/harness/cluster-cli.ts down [--dir .cluster]
//   tsx e2e/harness/cluster-cli.ts status [--dir .cluster]
// --node adds containerd, kube-scheduler and a kubelet (see node.ts); it needs a private network
// namespace, which scripts/cluster.sh provides.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane, statusFromDir, stopFromDir } from './control-plane.js';
import { operatorAndTestImages, startNode, stopNodeFromDir } from './node.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: '.cluster' },
    'no-controller-manager': { type: 'boolean', default: false },
    node: { type: 'boolean', default: false },
  },
});
const dir = resolve(values.dir);
const kubeconfigPath = join(dir, 'kubeconfig');
const status = statusFromDir(dir);
const running = status !== undefined && Object.values(status).every(Boolean);

switch (positionals[0]) {
  case 'up': {
    const started = Date.now();
    if (running) {
      console.error(`control plane already running in ${dir}`);
    } else {
      await stopNodeFromDir(dir);
      const cp = await startControlPlane({ dir, detached: true, controllerManager: !values['no-controller-manager'] });
      console.error(`control plane up at ${cp.server} in ${Date.now() - started} ms; logs and pids.json in ${dir}`);
      if (values.node) {
        const images = await operatorAndTestImages();
        await startNode({ clusterDir: dir, kubeconfigPath, apiserverPort: Number(new URL(cp.server).port), images, detached: true })
          .catch(async (err: unknown) => { await stopFromDir(dir); throw err; });
        console.error(`node Ready ${Date.now() - started} ms after start; logs in ${join(dir, 'node')}`);
      }
    }
    console.log(kubeconfigPath);
    break;
  }
  case 'down':
    await stopNodeFromDir(dir);
    await stopFromDir(dir);
    console.error(`cluster in ${dir} stopped`);
    break;
  case 'status':
    console.log(JSON.stringify({ dir, kubeconfigPath, running, processes: status ?? {} }, null, 2));
    process.exitCode = running ? 0 : 1;
    break;
  default:
    console.error('usage: cluster-cli.ts up|down|status [--dir DIR] [--no-controller-manager] [--node]');
    process.exitCode = 2;
}
