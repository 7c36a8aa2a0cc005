/**
 * A zod schema built on its first use instead of when its module is imported.
 *
 * Building a zod schema is not free (every node of it gets its methods and checks set up),
 * and a one-shot command such as `clawos status` imports every schema of the federation
 * (config, records, registry, audit log…) while it reads only a few kinds of record: built at
 * import, they were about a sixth of its start-up. The proxy stands for the schema everywhere
 * (parse, safeParse, extend, nested in another schema) and builds it the first time anything
 * reads from it, so validation is exactly as strict as before; only the moment moves.
 */
export function lazySchema<T extends object>(build: () => T): T {
  let schema: T | undefined;
  const built = (): T => {
    schema ??= build();
    return schema;
  };
  // Every read goes to the built schema with the schema itself as `this` (zod binds its
  // methods to the instance they are read from).
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(built(), key),
    has: (_, key) => Reflect.has(built(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(built()),
  });
}
