// Jest globalSetup for the e2e project: one control plane for the whole run, unless
// LOCKSTEP_KUBECONFIG already names a running cluster (e.g. from `scripts/cluster.sh up`).
// Jest loads this file with Node's own TypeScript support, not ts-jest, so the harness is
// imported through tsx (which maps our `.js` import specifiers to `.ts` files).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import type { ControlPlane } from './control-plane.js';

declare global {
  var __LOCKSTEP_CONTROL_PLANE__: ControlPlane | undefined;
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
}
