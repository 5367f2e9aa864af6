import { buildListFilter, buildSecretMatcher, buildSecretName, buildVersionName, parseSecretId } from './gcp-names.js';
import { InvalidRefError } from '../provider-errors.js';

describe('gcp names', () => {
  it('builds secret names from ids and keeps full resource names', () => {
    expect(buildSecretName('proj-a', 'db-creds')).toBe('projects/proj-a/secrets/db-creds');
    expect(buildSecretName('proj-a', 'projects/other/secrets/x')).toBe('projects/other/secrets/x');
    expect(buildSecretName('proj-a', 'projects/1234/locations/europe-west1/secrets/x')).toBe('projects/1234/locations/europe-west1/secrets/x');
    expect(() => buildSecretName('proj-a', 'team/db')).toThrow(InvalidRefError);
    expect(() => buildSecretName('proj-a', 'projects/p/secrets/x/versions/1')).toThrow(InvalidRefError);
  });

  it('reads the latest version unless a number or alias is named', () => {
    expect(buildVersionName('p', { key: 's' })).toBe('projects/p/secrets/s/versions/latest');
    expect(buildVersionName('p', { key: 's', version: '3' })).toBe('projects/p/secrets/s/versions/3');
    expect(buildVersionName('p', { key: 's', version: 'prod' })).toBe('projects/p/secrets/s/versions/prod');
    expect(() => buildVersionName('p', { key: 's', version: '0' })).toThrow(InvalidRefError);
    expect(() => buildVersionName('p', { key: 's', version: '1/../2' })).toThrow("version '1/../2' of remote key 's'");
  });

  it('parses the secret id of a resource name', () => {
    expect(parseSecretId('projects/123/secrets/db')).toBe('db');
  });

  it('filters by labels on the server where label syntax allows', () => {
    expect(buildListFilter({})).toBeUndefined();
    expect(buildListFilter({ tags: { team: 'a', env: 'prod' } })).toBe('labels.team="a" AND labels.env="prod"');
    expect(buildListFilter({ tags: { team: 'Not A Label' } })).toBeUndefined();
  });

  it('matches listed secrets by name regexp, path prefix and every label', () => {
    const match = buildSecretMatcher({ name: { regexp: '^app-' }, tags: { team: 'a' } });
    expect(match({ name: 'projects/1/secrets/app-db', labels: { team: 'a', x: 'y' } })).toBe(true);
    expect(match({ name: 'projects/1/secrets/app-db', labels: { team: 'b' } })).toBe(false);
    expect(match({ name: 'projects/1/secrets/web-app-db', labels: { team: 'a' } })).toBe(false);
    const byPath = buildSecretMatcher({ path: 'team-a-' });
    expect(byPath({ name: 'projects/1/secrets/team-a-db', labels: {} })).toBe(true);
    expect(byPath({ name: 'projects/1/secrets/team-b-db', labels: {} })).toBe(false);
    expect(() => buildSecretMatcher({ name: { regexp: '(' } })).toThrow(InvalidRefError);
  });
});
