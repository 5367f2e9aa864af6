// CPU time of processes from /proc (user + system, seconds), to show where a phase's time went.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const CLK_TCK = 100;

/** CPU seconds a process has used so far, or NaN when it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

export type CpuSnapshot = Record<string, number>;

/** CPU seconds the whole machine was busy (all CPUs, from /proc/stat). */
export function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** CPU seconds of the named processes, of this process (`bench`) and of the whole machine (`machine`). */
export function snapshotCpu(pids: Record<string, number | undefined>): CpuSnapshot {
  const out: CpuSnapshot = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = cpuSeconds(pid);
  const self = process.cpuUsage();
  out['bench'] = (self.user + self.system) / 1e6;
  out['machine'] = machineBusySeconds();
  return out;
}

/**
 * CPU seconds used between two snapshots, per process; `others` is what the rest of the machine
 * used meanwhile (other workloads on a shared machine), `machine` the total.
 */
export function diffCpu(a: CpuSnapshot, b: CpuSnapshot): CpuSnapshot {
  const out: CpuSnapshot = {};
  for (const [k, v] of Object.entries(b)) out[k] = round(v - (a[k] ?? Number.NaN), 2);
  const ours = Object.entries(out).filter(([k, v]) => k !== 'machine' && Number.isFinite(v)).reduce((sum, [, v]) => sum + v, 0);
  if (out['machine'] !== undefined) out['others'] = round(out['machine'] - ours, 2);
  return out;
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Load average over the last minute, and the number of CPUs (the machine may be shared). */
export function machineLoad(): { loadavg1: number; cpus: number } {
  const load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  return { loadavg1: load, cpus: availableParallelism() };
}
