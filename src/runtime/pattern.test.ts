import { compilePattern, PatternError } from './pattern.js';

describe('compilePattern (RE2)', () => {
  test('matches and replaces like JavaScript for the patterns people write', () => {
    expect(compilePattern('^team/').test('team/db')).toBe(true);
    expect(compilePattern('^team/').test('other/team/db')).toBe(false);
    expect(compilePattern('db').test('team/db-main')).toBe(true);
    expect(compilePattern('^team/(.*)$').replaceAll('team/db', 't-$1')).toBe('t-db');
    expect(compilePattern('/').replaceAll('a/b/c', '_')).toBe('a_b_c');
    expect(compilePattern('x').replaceAll('axb', '$$')).toBe('a$b');
  });

  test('a catastrophic pattern runs in linear time', () => {
    const started = performance.now();
    expect(compilePattern('(a+)+$').test(`${'a'.repeat(20_000)}!`)).toBe(false);
    expect(compilePattern('^(a+)+$').test('a'.repeat(20_000))).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000); // a backtracking engine needs longer than the universe
  });

  test('invalid patterns and backtracking-only syntax are refused with the reason', () => {
    expect(() => compilePattern('(')).toThrow(PatternError);
    expect(() => compilePattern('(?=x)y')).toThrow("'(?=x)y' is not a valid regular expression (error parsing regexp: invalid or unsupported Perl syntax: `(?=`)");
    expect(() => compilePattern('(a)\\1')).toThrow(PatternError);
  });

  test('compiles a source once', () => {
    expect(compilePattern('^cached/')).toBe(compilePattern('^cached/'));
  });
});
