/**
 * Heap measurements for tests, made in a node process of their own. Measured in a test worker's
 * process, the same comparison passed alone and failed in the full unit run, depending on what the
 * files before it left in that worker's heap.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** `heapCost(make)` inside a script: heap bytes that what `make` returns keeps alive. */
export const HEAP_COST = `const heapCost = (make) => {
  gc();
  const before = process.memoryUsage().heapUsed;
  const held = make();
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  if (held === undefined) throw new Error('unreachable');
  return bytes;
};`;

/**
 * Runs `script`, an ES module that may import the project's TypeScript (paths from the repository
 * root, e.g. './src/kube/string-pool.ts'), in a fresh node with `gc` exposed, and returns the JSON
 * its last line of output holds.
 */
export function runInFreshNode<T>(script: string): T {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', `${HEAP_COST}\n${script}`], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? 'null') as T;
}
