// The scale regression guard (#11): a small run of the sync benchmark (bench/sync-bench.ts, its own
// control plane) that fails when the operator's API requests per new ExternalSecret, or its writes
// in an unchanged refresh round or at a restart, go up. Only counts are checked here: time and
// memory move with the machine's load, so they stay in `make bench`.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkedTargets } from '../../bench/lib/report.js';
import type { Results } from '../../bench/lib/report.js';

const ROOT = resolve(import.meta.dirname, '../..');
const N = 200;

function runBench(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((ok) => {
    execFile(join(ROOT, 'node_modules/.bin/tsx'), ['bench/sync-bench.ts', ...args], {
      cwd: ROOT, maxBuffer: 64 * 2 ** 20, timeout: 280_000,
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
    }, (err, stdout, stderr) => ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }));
  });
}

describe('scale guard (small sync benchmark)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockstep-scale-guard-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it(`${N} ExternalSecrets: ≤ 2.05 requests each, no writes on an unchanged refresh beyond 1 status write per 20, none on a restart`, async () => {
    const out = join(dir, 'results.json');
    const run = await runBench(['--n', String(N), '--namespaces', '2', '--no-floor', '--refresh-interval', '10s', '--out', out]);
    if (run.code !== 0) throw new Error(`the benchmark failed (exit ${run.code}):\n${run.output.slice(-6000)}`);
    const results = JSON.parse(await readFile(out, 'utf8')) as Results;
    const targets = checkedTargets(results);
    const missed = targets.filter((t) => t.result !== 'PASS');
    if (missed.length > 0) {
      throw new Error(`targets missed: ${missed.map((t) => `${t.name} = ${t.value} (target ${t.target}, ${t.result})`).join('; ')}\n${run.output.slice(-4000)}`);
    }
    expect(targets.map((t) => t.result)).toEqual(targets.map(() => 'PASS'));
  }, 300_000);
});
