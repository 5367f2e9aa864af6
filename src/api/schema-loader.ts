/**
 * The API's zod schemas, loaded when the first object has to be parsed: zod and the schemas cost
 * ~13 MB of peak RSS to load and build (measured on the image's bundle: bare node 43.6 MB, zod
 * alone 53.0, with the API schemas 56.9), which an operator with no ExternalSecrets and no stores
 * never needs. So nothing on the operator's start path imports zod, a schema, or a module that
 * does (config and leader election check their few fields by hand), and the code that parses
 * objects awaits {@link loadApiSchemas} first. The module is cached like any import: one load
 * per process.
 */
export type ApiSchemas = typeof import('./schemas.js');

let loaded: ApiSchemas | undefined;
let loading: Promise<ApiSchemas> | undefined;

/** Loads the schemas (once; a failed load is tried again on the next call). */
export function loadApiSchemas(): Promise<ApiSchemas> {
  loading ??= import('./schemas.js').then(
    (schemas) => (loaded = schemas),
    (err: unknown) => {
      loading = undefined;
      throw new Error(`cannot load the API schemas: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    },
  );
  return loading;
}

/** The schemas, for code that runs after {@link loadApiSchemas} resolved (a reconcile awaits it first). */
export function apiSchemas(): ApiSchemas {
  if (!loaded) throw new Error('the API schemas are used before loadApiSchemas() loaded them');
  return loaded;
}

/** The schemas if they are loaded, else undefined (for synchronous readers that may run first). */
export function loadedApiSchemas(): ApiSchemas | undefined {
  return loaded;
}
