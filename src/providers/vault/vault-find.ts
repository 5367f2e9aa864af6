/** Walking a KV mount for `find`: recursive LIST under a path prefix, with bounds. */
import { InvalidRefError } from '../provider-errors.js';

/** Lists one folder ('' is the mount's root); folders in the result end in '/'. */
export type FolderLister = (folder: string) => Promise<string[]>;

/** A find that lists more keys than this is refused: narrow it with `path`. */
export const MAX_LISTED_KEYS = 10_000;
const LIST_CONCURRENCY = 4;

/** Every secret path under `prefix` (a folder such as "team-a/" or any path prefix such as "team-a/db-"), sorted. */
export async function listKeys(list: FolderLister, prefix: string): Promise<string[]> {
  const clean = prefix.replace(/^\/+/, '');
  const start = clean.slice(0, clean.lastIndexOf('/') + 1);
  const relevant = (path: string) => path.startsWith(clean) || clean.startsWith(path);
  const keys: string[] = [];
  let folders = [start];
  while (folders.length > 0) {
    const next: string[] = [];
    await forEachLimited(folders, LIST_CONCURRENCY, async (folder) => {
      for (const entry of await list(folder)) {
        const path = folder + entry;
        if (!relevant(path)) continue;
        if (entry.endsWith('/')) next.push(path);
        else keys.push(path);
      }
    });
    if (keys.length + next.length > MAX_LISTED_KEYS) {
      throw new InvalidRefError(`find under '${clean}' lists more than ${MAX_LISTED_KEYS} keys; narrow it with find.path`);
    }
    folders = next;
  }
  return keys.sort();
}

/** Runs fn over items with at most `limit` in flight; the first failure rejects (after in-flight ones settle). */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
