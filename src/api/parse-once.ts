/**
 * A schema's safeParse that remembers the objects that passed. A reconcile parses its
 * ExternalSecret's spec and status each time (10,000 periodic refreshes every interval), though the
 * cache hands it the same objects until they change: the cache keeps the spec object while
 * metadata.generation is unchanged, and a status object until the next status write. zod's parse
 * was a tenth of what a store-edit round allocated at 10,000 (sampled). Our schemas have no
 * defaults and no transforms (parse-once.test.ts checks it on full objects): a parse only checks,
 * and drops unknown keys the API server already pruned, so an object that passed stands for its
 * own parse. The objects are never mutated (informer-cache.ts replaces them); a WeakSet holds no
 * object alive.
 */
import type { z } from 'zod';

const passed = new WeakMap<z.ZodType, WeakSet<object>>();

export function parseOnce<S extends z.ZodType>(schema: S, value: unknown): z.ZodSafeParseResult<z.output<S>> {
  const seen = typeof value === 'object' && value !== null ? passed.get(schema) : undefined;
  if (seen?.has(value as object)) return { success: true, data: value as z.output<S> };
  const result = schema.safeParse(value);
  if (result.success && typeof value === 'object' && value !== null) {
    let set = passed.get(schema);
    if (!set) passed.set(schema, (set = new WeakSet()));
    set.add(value);
  }
  return result;
}
