// A memory cgroup for one operator process, so the benchmark runs it as a pod runs it: with the
// chart's memory limit, from which node sizes its heap (as in a container: V8's heap limit and its
// growth follow the limit, not the machine's 24 GiB). Made inside the benchmark's own memory
// cgroup (cgroup v1 `memory` hierarchy, or the unified v2 tree), removed when the process is gone.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** "256Mi", "1Gi", "300M", "1000000" → bytes. */
export function parseQuantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

/** The chart's default memory limit (charts/lockstep/values.yaml, resources.limits.memory). */
export function chartMemoryLimit(): string {
  const values = readFileSync(join(ROOT, 'charts/lockstep/values.yaml'), 'utf8');
  const m = /^resources:\n(?:[ ].*\n)*?\s+limits:\n\s+memory:\s*(\S+)/m.exec(values);
  if (!m?.[1]) throw new Error('charts/lockstep/values.yaml has no resources.limits.memory');
  return m[1];
}

export class MemoryCgroup {
  private constructor(
    readonly dir: string,
    private readonly v2: boolean,
    readonly limitBytes: number,
  ) {}

  static create(name: string, limitBytes: number): MemoryCgroup {
    const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
    let cg: MemoryCgroup;
    if (v1 && existsSync('/sys/fs/cgroup/memory')) {
      const dir = join('/sys/fs/cgroup/memory', v1.split(':')[2] ?? '/', name);
      mkdirSync(dir, { recursive: true });
      cg = new MemoryCgroup(dir, false, limitBytes);
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    } else {
      const unified = lines.find((l) => l.startsWith('0::'));
      if (!unified || !existsSync('/sys/fs/cgroup/cgroup.controllers')) {
        throw new Error('no memory cgroup to run the operator in (run with --memory-limit none)');
      }
      const dir = join('/sys/fs/cgroup', unified.slice(3), name);
      mkdirSync(dir, { recursive: true });
      cg = new MemoryCgroup(dir, true, limitBytes);
      try {
        writeFileSync(join(dir, 'memory.max'), String(limitBytes));
      } catch (err) {
        cg.remove();
        throw new Error(`cannot set memory.max in ${dir} (the memory controller is not delegated here; run with --memory-limit none): ${String(err)}`);
      }
    }
    return cg;
  }

  /** `command args…` wrapped so the process joins this cgroup before node starts (node reads the limit at start). */
  wrap(command: string, args: string[]): [string, string[]] {
    return ['/bin/sh', ['-c', `echo $$ > '${join(this.dir, 'cgroup.procs')}' && exec "$@"`, 'sh', command, ...args]];
  }

  /** The cgroup's peak memory (anonymous memory plus the page cache it charged), bytes. */
  peak(): number {
    return Number(readFileSync(join(this.dir, this.v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'), 'utf8').trim());
  }

  /** Times the kernel had to reclaim or refuse memory at the limit (v1 failcnt; v2 the `max` event). */
  limitHits(): number {
    if (!this.v2) return Number(readFileSync(join(this.dir, 'memory.failcnt'), 'utf8').trim());
    const events = readFileSync(join(this.dir, 'memory.events'), 'utf8');
    return Number(/^max (\d+)/m.exec(events)?.[1] ?? 0);
  }

  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // still has a process in it (it is being killed) or already gone: the next removal takes it
    }
  }
}
