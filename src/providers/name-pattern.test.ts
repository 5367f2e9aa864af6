import { compileNamePattern } from './name-pattern.js';
import { FakeSecretsClient } from './fake/fake-provider.js';
import { InvalidRefError } from './provider-errors.js';

describe('compileNamePattern', () => {
  it('compiles a name pattern with RE2, and rejects a bad one as an invalid reference naming the field', () => {
    expect(compileNamePattern(undefined)).toBeUndefined();
    expect(compileNamePattern('^a')?.test('ab')).toBe(true);
    expect(() => compileNamePattern('([')).toThrow(InvalidRefError);
    expect(() => compileNamePattern('(?<=a)b')).toThrow(/^find\.name\.regexp '\(\?<=a\)b' is not a valid regular expression/);
  });

  it('a catastrophic pattern in a find returns at once', async () => {
    const fake = new FakeSecretsClient([{ key: `${'a'.repeat(30_000)}!`, value: 'x' }, { key: 'aaa', value: 'y' }]);
    const started = performance.now();
    const found = await fake.findSecrets({ name: { regexp: '^(a+)+$' } }, { signal: new AbortController().signal });
    expect([...found.keys()]).toEqual(['aaa']);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
