import { compilePattern, PatternError, type Pattern } from '../runtime/pattern.js';
import { InvalidRefError } from './provider-errors.js';

/**
 * The name filter of a find (`find.name.regexp`), compiled once with RE2 for every provider; a
 * pattern that does not compile is the spec's fault (InvalidRefError: InvalidSpec, not retried).
 */
export function compileNamePattern(regexp: string | undefined): Pattern | undefined {
  if (regexp === undefined) return undefined;
  try {
    return compilePattern(regexp);
  } catch (err) {
    if (err instanceof PatternError) throw new InvalidRefError(`find.name.regexp ${err.message}`);
    throw err;
  }
}
