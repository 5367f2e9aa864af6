import { buildListFilters, computeLiteralPrefix, parseVersion, shouldIncludeSecret } from './aws-ref.js';

describe('parseVersion', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['AWSCURRENT', undefined],
    ['stage:AWSCURRENT', undefined],
    ['AWSPREVIOUS', { VersionStage: 'AWSPREVIOUS' }],
    ['AWSPENDING', { VersionStage: 'AWSPENDING' }],
    ['stage:blue', { VersionStage: 'blue' }],
    ['uuid/0f1e2d3c-aaaa-bbbb-cccc-000000000001', { VersionId: '0f1e2d3c-aaaa-bbbb-cccc-000000000001' }],
    ['0f1e2d3c-aaaa-bbbb-cccc-000000000001', { VersionId: '0f1e2d3c-aaaa-bbbb-cccc-000000000001' }],
  ])('maps %p to %p', (version, expected) => {
    expect(parseVersion(version)).toEqual(expected);
  });
});

describe('computeLiteralPrefix', () => {
  it.each([
    ['^team-a/', 'team-a/'],
    ['^team-a/db.*', 'team-a/db'],
    ['^abc?', 'ab'],
    ['^abc*', 'ab'],
    ['^abc{2}', 'ab'],
    ['^abc+', 'abc'],
    ['^a(b|c)', undefined],
    ['^abc|xyz', undefined],
    ['team-a/', undefined],
    ['^\\w+', undefined],
    ['^', undefined],
  ])('%p → %p', (regexp, prefix) => {
    expect(computeLiteralPrefix(regexp)).toBe(prefix);
  });

  it('never excludes a true match', () => {
    for (const [regexp, name] of [['^app/(db|cache)', 'app/db'], ['^ab?c', 'ac'], ['^x.y', 'x-y']] as const) {
      const prefix = computeLiteralPrefix(regexp);
      expect(new RegExp(regexp).test(name)).toBe(true);
      expect(prefix === undefined || name.startsWith(prefix)).toBe(true);
    }
  });
});

describe('buildListFilters', () => {
  it('uses a literal name prefix and the first tag', () => {
    expect(buildListFilters({ name: { regexp: '^prod/' }, tags: { env: 'prod', team: 'a' } })).toEqual([
      { Key: 'name', Values: ['prod/'] },
      { Key: 'tag-key', Values: ['env'] },
      { Key: 'tag-value', Values: ['prod'] },
    ]);
  });

  it('uses the longer of path and name prefix', () => {
    expect(buildListFilters({ path: 'prod/', name: { regexp: '^prod/db' } })).toEqual([{ Key: 'name', Values: ['prod/db'] }]);
    expect(buildListFilters({ path: 'prod/db/', name: { regexp: '^prod/' } })).toEqual([{ Key: 'name', Values: ['prod/db/'] }]);
  });

  it('leaves out values the filter syntax cannot carry, or that would negate', () => {
    expect(buildListFilters({ name: { regexp: 'anywhere' } })).toEqual([]);
    expect(buildListFilters({ path: '!not' })).toEqual([]);
    expect(buildListFilters({ tags: { 'k#': 'v*' } })).toEqual([]);
  });
});

describe('shouldIncludeSecret', () => {
  const secret = { name: 'prod/db', tags: { env: 'prod', team: 'a' } };
  it('needs the path, the regexp and every tag', () => {
    expect(shouldIncludeSecret(secret, { path: 'prod/', tags: { env: 'prod', team: 'a' } }, /db$/)).toBe(true);
    expect(shouldIncludeSecret(secret, { path: 'dev/' }, undefined)).toBe(false);
    expect(shouldIncludeSecret(secret, {}, /cache/)).toBe(false);
    expect(shouldIncludeSecret(secret, { tags: { env: 'prod', team: 'b' } }, undefined)).toBe(false);
  });
});
