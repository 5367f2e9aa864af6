/**
 * Regular expressions written by tenants (find.name.regexp, rewrite sources) run in RE2 — the
 * re2js port — whose matching time is linear in the input, so no pattern can stall the operator's
 * one thread the way `(a+)+$` stalls a backtracking engine. RE2 syntax is JavaScript's without
 * lookaround and backreferences; a pattern using them is refused like any invalid one.
 * Compiled patterns are cached by source (bounded), so each is compiled once, not per read.
 */
import { RE2JS } from 're2js';

export class PatternError extends Error {}

export interface Pattern {
  readonly source: string;
  /** True when the pattern matches anywhere in `text` (like RegExp.test). */
  test(text: string): boolean;
  /** Every match replaced; `$1` names a group and `$$` is a dollar sign (like String.replaceAll). */
  replaceAll(text: string, replacement: string): string;
}

const MAX_CACHED = 2000;
const cache = new Map<string, Pattern>();

/** Compiles `source` with RE2, or throws PatternError with RE2's explanation. */
export function compilePattern(source: string): Pattern {
  const cached = cache.get(source);
  if (cached) return cached;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    throw new PatternError(`'${source}' is not a valid regular expression (${(err as Error).message})`);
  }
  const pattern: Pattern = {
    source,
    test: (text) => re.matcher(text).find(),
    replaceAll: (text, replacement) => re.matcher(text).replaceAll(replacement),
  };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(source, pattern);
  return pattern;
}
