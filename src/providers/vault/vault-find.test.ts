import { InvalidRefError } from '../provider-errors.js';
import { forEachLimited, listKeys } from './vault-find.js';

const tree: Record<string, string[]> = {
  '': ['app/', 'apple', 'team/'],
  'app/': ['db', 'cache/'],
  'app/cache/': ['redis'],
  'team/': ['x'],
};
function lister(listed: string[] = []) {
  return (folder: string) => {
    listed.push(folder);
    return Promise.resolve(tree[folder] ?? []);
  };
}

describe('listKeys', () => {
  it('walks the whole mount recursively, sorted', async () => {
    expect(await listKeys(lister(), '')).toEqual(['app/cache/redis', 'app/db', 'apple', 'team/x']);
  });

  it('treats the path as a prefix and lists only folders that can match', async () => {
    const listed: string[] = [];
    expect(await listKeys(lister(listed), 'app')).toEqual(['app/cache/redis', 'app/db', 'apple']);
    expect(listed).not.toContain('team/');
    expect(await listKeys(lister(), 'app/')).toEqual(['app/cache/redis', 'app/db']);
    expect(await listKeys(lister(), '/app/ca')).toEqual(['app/cache/redis']);
  });

  it('refuses a find that lists too much', async () => {
    const huge = (folder: string) => Promise.resolve(folder === '' ? Array.from({ length: 10_001 }, (_, i) => `k${i}`) : []);
    await expect(listKeys(huge, '')).rejects.toThrow(InvalidRefError);
  });
});

describe('find helpers', () => {
  it('runs at most `limit` at once and reports the first failure', async () => {
    let inFlight = 0;
    let peak = 0;
    await forEachLimited([1, 2, 3, 4, 5, 6], 2, async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
    });
    expect(peak).toBe(2);
    await expect(forEachLimited([1, 2, 3], 2, (n) => (n === 2 ? Promise.reject(new Error('two')) : Promise.resolve()))).rejects.toThrow('two');
  });
});
