import { isNamespaceAllowed, matchesLabelSelector } from './store-access-policy.js';

describe('store access policy', () => {
  it('allows every namespace when there are no conditions', () => {
    expect(isNamespaceAllowed(undefined, 'a', {})).toBe(true);
    expect(isNamespaceAllowed([], 'a', {})).toBe(true);
  });

  it('allows by name or by label selector', () => {
    const conditions = [{ namespaces: ['team-a'] }, { namespaceSelector: { matchLabels: { env: 'prod' } } }];
    expect(isNamespaceAllowed(conditions, 'team-a', {})).toBe(true);
    expect(isNamespaceAllowed(conditions, 'team-b', { env: 'prod' })).toBe(true);
    expect(isNamespaceAllowed(conditions, 'team-b', { env: 'dev' })).toBe(false);
    expect(isNamespaceAllowed(conditions, 'team-b', undefined)).toBe(false);
  });

  it('allows by RE2 regular expression (namespaceRegexes, unanchored as in ESO); a pattern that does not compile allows nothing', () => {
    expect(isNamespaceAllowed([{ namespaceRegexes: ['^team-[a-c]$'] }], 'team-b', {})).toBe(true);
    expect(isNamespaceAllowed([{ namespaceRegexes: ['^team-[a-c]$'] }], 'team-d', {})).toBe(false);
    expect(isNamespaceAllowed([{ namespaceRegexes: ['prod'] }], 'payments-prod-eu', {})).toBe(true);
    expect(isNamespaceAllowed([{ namespaceRegexes: ['(?=team)'] }], 'team-a', {})).toBe(false);
    expect(isNamespaceAllowed([{ namespaceRegexes: ['(?=team)'] }, { namespaces: ['team-a'] }], 'team-a', {})).toBe(true);
  });

  it('matches every label selector operator', () => {
    const labels = { env: 'prod', tier: 'web' };
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'stg'] }] }, labels)).toBe(true);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, labels)).toBe(false);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels)).toBe(true);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'gone', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels)).toBe(false);
  });
});
