// Jest globalTeardown: stops the node and the control plane that globalSetup started (never a
// reused one).
// Set LOCKSTEP_KEEP_CLUSTER_DIR=1 to keep its folder (logs, certs) for debugging.
import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const node = globalThis.__LOCKSTEP_NODE__;
  globalThis.__LOCKSTEP_NODE__ = undefined;
  if (node) await node.stop();
  const cp = globalThis.__LOCKSTEP_CONTROL_PLANE__;
  if (!cp) return;
  globalThis.__LOCKSTEP_CONTROL_PLANE__ = undefined;
  await cp.stop();
  delete process.env.LOCKSTEP_KUBECONFIG;
  delete process.env.LOCKSTEP_CLUSTER_DIR;
  if (!process.env.LOCKSTEP_KEEP_CLUSTER_DIR) await rm(cp.dir, { recursive: true, force: true });
}
