/**
 * Writes a set of files so a reader sees either all of the old ones or all of the new ones, the
 * way the kubelet writes Secret volumes: the content goes into a fresh hidden directory, then the
 * `..data` symlink is swapped to it with one rename(2), and the visible names are symlinks through
 * `..data`. Node builtins only: the agent stays small. Written by hand because no npm package
 * does this swap (write-file-atomic replaces one file, not a set).
 *
 *   dir/..data -> ..2026_12_02_13_40_01.123456789
 *   dir/db     -> ..data/db          (one directory per ExternalSecret)
 *   dir/..2026_12_02_13_40_01.123456789/db/password
 */
import { chmod, mkdir, open, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

const DATA_LINK = '..data';

export interface FileSet {
  /** Directory (an ExternalSecret's name) → file name → content. */
  [dir: string]: Record<string, Uint8Array>;
}

export async function writeAtomically(root: string, files: FileSet, fileMode: number): Promise<void> {
  const stamp = `..${new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')}.${process.hrtime.bigint() % 1_000_000_000n}`;
  const next = join(root, stamp);
  await mkdir(next, { mode: 0o755 });
  for (const [dir, entries] of Object.entries(files)) {
    assertPlainName(dir);
    await mkdir(join(next, dir), { mode: 0o755 });
    for (const [name, content] of Object.entries(entries)) {
      assertPlainName(name);
      const path = join(next, dir, name);
      const handle = await open(path, 'wx', fileMode);
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(path, fileMode); // the umask may have taken bits away
    }
  }
  const previous = await readlink(join(root, DATA_LINK)).catch(() => undefined);
  const tmpLink = join(root, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(stamp, tmpLink);
  await rename(tmpLink, join(root, DATA_LINK));
  for (const dir of Object.keys(files)) {
    const link = join(root, dir);
    const target = await readlink(link).catch(() => undefined);
    if (target === join(DATA_LINK, dir)) continue;
    await rm(link, { force: true, recursive: false }).catch(() => undefined);
    await symlink(join(DATA_LINK, dir), link);
  }
  if (previous && previous !== stamp) await rm(join(root, previous), { recursive: true, force: true });
  await removeStale(root, stamp, Object.keys(files));
}

/** Old timestamped directories (a crash between swap and clean-up) and links to dropped ExternalSecrets. */
async function removeStale(root: string, current: string, dirs: string[]): Promise<void> {
  const keep = new Set([DATA_LINK, current, ...dirs]);
  for (const entry of await readdir(root)) {
    if (keep.has(entry)) continue;
    if (entry.startsWith('..') || (await readlink(join(root, entry)).catch(() => '')).startsWith(DATA_LINK)) {
      await rm(join(root, entry), { recursive: true, force: true });
    }
  }
}

function assertPlainName(name: string): void {
  if (!name || name === '.' || name === '..' || name.startsWith('..') || name.includes('/') || name.includes('\0')) {
    throw new Error(`'${name}' cannot be a file name`);
  }
}

