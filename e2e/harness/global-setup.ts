// Jest globalSetup for the e2e project: one control plane for the whole run, unless
// LOCKSTEP_KUBECONFIG already names a running cluster (e.g. from `scripts/cluster.sh up`).
// When the run is in a private network namespace (`make test` starts it through
// scripts/netns.sh), a node joins it: containerd, kube-scheduler and a kubelet, with the operator's
// image (`make image`) and the test images imported. LOCKSTEP_NODE=0 leaves the node out.
// Jest loads this file with Node's own TypeScript support, not ts-jest, so the harness is
// imported through tsx (which maps our `.js` import specifiers to `.ts` files).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import type { ControlPlane } from './control-plane.js';
import type { LocalNode } from './node.js';

declare global {
  var __LOCKSTEP_CONTROL_PLANE__: ControlPlane | undefined;
  var __LOCKSTEP_NODE__: LocalNode | undefined;
}

export default async function globalSetup(): Promise<void> {
  // Ground rule: no SDK may probe cloud metadata endpoints. Workers inherit these.
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.METADATA_SERVER_DETECTION = 'none';
  if (globalThis.__LOCKSTEP_CONTROL_PLANE__ || process.env.LOCKSTEP_KUBECONFIG) return;

  const { startControlPlane } = (await tsImport('./control-plane.ts', import.meta.url)) as typeof import('./control-plane.js');
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-e2e-'));
  const started = Date.now();
  const cp = await startControlPlane({ dir });
  console.log(`\ncontrol plane ${cp.server} up in ${Date.now() - started} ms (logs in ${dir})`);
  process.env.LOCKSTEP_KUBECONFIG = cp.kubeconfigPath;
  process.env.LOCKSTEP_CLUSTER_DIR = cp.dir;
  globalThis.__LOCKSTEP_CONTROL_PLANE__ = cp;
  // Install Lockstep's CRDs now, so kube-controller-manager's garbage collector has discovered
  // them (it resyncs discovery every 30 s) by the time tests rely on owner references.
  const { kubectl } = (await tsImport('./cluster.ts', import.meta.url)) as typeof import('./cluster.js');
  const crds = join(import.meta.dirname, '../../crds');
  await kubectl(cp.kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', crds]);
  await startNodeIfPossible(cp);
}

async function startNodeIfPossible(cp: ControlPlane): Promise<void> {
  const node = (await tsImport('./node.ts', import.meta.url)) as typeof import('./node.js');
  if (process.env.LOCKSTEP_NODE === '0') return;
  if (!node.inPrivateNetns()) {
    console.log('no node: this run is not in a private network namespace (run `make test-e2e`); tests that need pods will fail');
    return;
  }
  const images = await node.operatorAndTestImages();
  const started = Date.now();
  try {
    globalThis.__LOCKSTEP_NODE__ = await node.startNode({
      clusterDir: cp.dir, kubeconfigPath: cp.kubeconfigPath, apiserverPort: Number(new URL(cp.server).port), images,
    });
  } catch (err) {
    globalThis.__LOCKSTEP_CONTROL_PLANE__ = undefined;
    await cp.stop();
    throw err;
  }
  console.log(`node ${node.NODE_NAME} Ready in ${Date.now() - started} ms (images: ${images.length + 1})`);
}
