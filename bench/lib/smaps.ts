// Where a process's resident memory is, from /proc/PID/smaps: which mappings hold it. Used per
// soak round, to tell malloc's growth from V8's (the operator's metrics only show V8's heap).
import { readFileSync, readlinkSync } from 'node:fs';

/** Resident MB by kind of mapping. */
export interface SmapsBreakdown {
  /** `[heap]`: glibc malloc's main arena (the main thread's small allocations). */
  mallocMain: number;
  /**
   * Anonymous mappings starting on a 64 MiB boundary: glibc's per-thread arenas (other threads'
   * malloc: V8's GC helpers, libuv's pool). Also counts any other mapping that happens to start there.
   */
  mallocArenas: number;
  /** How many such arenas. */
  arenas: number;
  /** Other anonymous mappings: V8's heap and code pages, malloc's large (mmapped) chunks, thread stacks. */
  anonOther: number;
  /** The node executable's file pages (code and read-only data). */
  nodeBinary: number;
  /** Other files: shared libraries, the bundle's chunks read by mmap, … */
  otherFiles: number;
  stack: number;
  total: number;
}

const MIB = 2 ** 20;
const ARENA_ALIGN = 64n * BigInt(MIB);

/** Parses /proc/PID/smaps; undefined when the process is gone. */
export function readSmaps(pid: number): SmapsBreakdown | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  let exe = '';
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // gone meanwhile: the totals still count
  }
  const kb = { mallocMain: 0, mallocArenas: 0, arenas: 0, anonOther: 0, nodeBinary: 0, otherFiles: 0, stack: 0, total: 0 };
  let kind: keyof typeof kb = 'anonOther';
  let arenaStart = false;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const [, start = '0', , path = ''] = header;
      arenaStart = false;
      if (path === '[heap]') kind = 'mallocMain';
      else if (path === '[stack]') kind = 'stack';
      else if (path.startsWith('/')) kind = path === exe ? 'nodeBinary' : 'otherFiles';
      else if (path === '' && BigInt(`0x${start}`) % ARENA_ALIGN === 0n) {
        kind = 'mallocArenas';
        arenaStart = true;
      } else kind = 'anonOther';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const value = Number(rss[1]);
    kb[kind] += value;
    kb.total += value;
    if (arenaStart) kb.arenas++;
  }
  const mb = (x: number) => Math.round((x / 1024) * 10) / 10;
  return {
    mallocMain: mb(kb.mallocMain), mallocArenas: mb(kb.mallocArenas), arenas: kb.arenas, anonOther: mb(kb.anonOther),
    nodeBinary: mb(kb.nodeBinary), otherFiles: mb(kb.otherFiles), stack: mb(kb.stack), total: mb(kb.total),
  };
}

/** One line: `malloc main 17.2, arenas 12.0 (3), anon 120.3, node 49.1, files 3.2`. */
export function formatSmaps(s: SmapsBreakdown | undefined): string {
  if (!s) return 'smaps n/a';
  return `malloc main ${s.mallocMain}, arenas ${s.mallocArenas} (${s.arenas}), anon ${s.anonOther}, node ${s.nodeBinary}, files ${s.otherFiles}`;
}
