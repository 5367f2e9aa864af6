import { mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomically } from './atomic-writer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockstep-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (s: string) => new TextEncoder().encode(s);

describe('writeAtomically', () => {
  it('writes one directory per set behind the ..data link, with the mode asked for', async () => {
    await writeAtomically(dir, { db: { password: bytes('one'), user: bytes('app') } }, 0o440);
    expect(await readFile(join(dir, 'db', 'password'), 'utf8')).toBe('one');
    expect(await readlink(join(dir, 'db'))).toBe(join('..data', 'db'));
    expect((await stat(join(dir, 'db', 'password'))).mode & 0o777).toBe(0o440);
  });

  it('swaps the whole set at once and leaves no old version behind', async () => {
    await writeAtomically(dir, { db: { password: bytes('one') }, cache: { url: bytes('u1') } }, 0o444);
    const first = await readlink(join(dir, '..data'));
    await writeAtomically(dir, { db: { password: bytes('two') } }, 0o444);
    expect(await readFile(join(dir, 'db', 'password'), 'utf8')).toBe('two');
    expect(await readlink(join(dir, '..data'))).not.toBe(first);
    const entries = (await readdir(dir)).sort();
    expect(entries).toEqual(['..data', await readlink(join(dir, '..data')), 'db'].sort()); // cache's link and the old version are gone
  });

  it('refuses names that would escape the directory', async () => {
    await expect(writeAtomically(dir, { db: { '../x': bytes('v') } }, 0o444)).rejects.toThrow("'../x' cannot be a file name");
    await expect(writeAtomically(dir, { '..data': { k: bytes('v') } }, 0o444)).rejects.toThrow('cannot be a file name');
  });
});
