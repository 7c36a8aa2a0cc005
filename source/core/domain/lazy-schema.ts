/**
 * A zod schema built on its first use instead of when its module is imported.
 *
 * Building a zod schema is not free (every node of it gets its methods and checks set up),
 * and a one-shot command such as `clawos status` imports every schema of the federation
 * (config, records, registry, audit log…) while it reads only a few kinds of record: built at
 * import, they were about a sixth of its start-up. The proxy stands for the schema everywhere
 * (parse, safeParse, extend, nested in another schema) and builds it the first time anything
 * reads from it, so validation is exactly as strict as before; only the moment moves.
 *
 * `fast` (fast-checks.ts), when given, answers `parse` and `safeParse` for the inputs it
 * accepts, with the value the schema would return; for anything else the schema decides (and
 * is built then).
 */
export function lazySchema<T extends object>(build: () => T, fast?: (input: unknown) => unknown): T {
  let schema: T | undefined;
  const built = (): T => {
    schema ??= build();
    return schema;
  };
  const quick = fast && {
    parse: (input: unknown, ...rest: unknown[]) => {
      const value = fast(input);
      return value !== undefined ? value : callOn(built(), "parse", input, rest);
    },
    safeParse: (input: unknown, ...rest: unknown[]) => {
      const value = fast(input);
      return value !== undefined ? { success: true, data: value } : callOn(built(), "safeParse", input, rest);
    },
  };
  // Every read goes to the built schema with the schema itself as `this` (zod binds its
  // methods to the instance they are read from).
  return new Proxy({} as T, {
    get: (_, key) =>
      quick && (key === "parse" || key === "safeParse") ? quick[key] : Reflect.get(built(), key),
    has: (_, key) => Reflect.has(built(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(built()),
  });
}

function callOn(schema: object, method: "parse" | "safeParse", input: unknown, rest: unknown[]): unknown {
  return (Reflect.get(schema, method) as (...args: unknown[]) => unknown).call(schema, input, ...rest);
}
