/**
 * esbuild plugins for the bundle (bundle.ts), each a load-time cost of a dependency taken out;
 * the benchmarks bundle their one-line Ink reference with two of them.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Plugin } from "esbuild";

/**
 * React's packages pick their build at run time from NODE_ENV, so the bundle held both
 * (react-reconciler's development build alone is 1 MB, parsed and kept in memory by the
 * control center, never run: production.ts sets NODE_ENV first). Only the production
 * build goes in; a process that wants the development one runs dist/source.
 */
export const reactProduction: Plugin = {
  name: "react-production",
  setup(bundle) {
    bundle.onLoad(
      { filter: /[\\/]node_modules[\\/](?:react|react-reconciler|scheduler)[\\/][^\\/]+\.js$/ },
      async (args) => {
        const text = await readFile(args.path, "utf8");
        const production =
          /^'use strict';\s*if \(process\.env\.NODE_ENV === 'production'\) \{\s*module\.exports = require\('(\.\/cjs\/[\w.-]+\.production\.js)'\);\s*\} else \{\s*module\.exports = require\('\.\/cjs\/[\w.-]+\.development\.js'\);\s*\}\s*$/.exec(
            text,
          );
        return production
          ? {
              contents: `module.exports = require(${JSON.stringify(production[1])});\n`,
              loader: "js",
              resolveDir: dirname(args.path),
            }
          : undefined;
      },
    );
  },
};

/**
 * `z` carries zod's error messages in ~50 languages (`z.locales`), two fifths of the zod
 * chunk every command loads; nothing here switches language, and zod imports its English
 * messages on their own. Only those stay.
 */
export const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(bundle) {
    bundle.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](?:classic|core)[\\/]/.test(args.importer)
        ? { path: `${dirname(dirname(args.importer))}/locales/en.js`, namespace: "zod-english" }
        : undefined,
    );
    bundle.onLoad({ filter: /.*/, namespace: "zod-english" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};\n`,
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * yoga (Ink's layout) loads its wasm, held as a base64 data: URL, through `fetch` when
 * there is one: in Node that loads Node's own copy of undici first, ~60 ms of CPU before
 * the control center's first frame. Without `fetch` it decodes the same bytes itself.
 */
export const yogaWithoutFetch: Plugin = {
  name: "yoga-without-fetch",
  setup(bundle) {
    bundle.onLoad(
      { filter: /[\\/]yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/ },
      async (args) => {
        const text = await readFile(args.path, "utf8");
        const uses = text.split('"function"!=typeof fetch').length - 1;
        if (uses !== 2)
          throw new Error(`yoga-without-fetch: expected 2 fetch checks in ${args.path}, found ${uses}`);
        return { contents: text.replaceAll('"function"!=typeof fetch', "true"), loader: "js" };
      },
    );
  },
};

/**
 * Evaluating zod (its ~400 kB chunk, every schema class set up) was ~10-15 ms of each
 * command, and `status` builds no schema: its records pass the fast checks
 * (core/domain/fast-checks.ts). Our modules' `z` is a stand-in that loads zod.js
 * (require() of an ES module, synchronous) the first time anything reads from it, so a
 * schema is built, parses and words its errors exactly as before, only later. Run
 * unbundled (dist/source, the tests), the modules import zod itself.
 */
export const lazyZod = (root: string): Plugin => ({
  name: "lazy-zod",
  setup(bundle) {
    const ours = `${root}dist/source/`;
    bundle.onResolve({ filter: /^zod$/ }, (args) =>
      args.importer.startsWith(ours) ? { path: "zod", namespace: "lazy-zod" } : undefined,
    );
    bundle.onLoad({ filter: /.*/, namespace: "lazy-zod" }, () => ({
      contents: `let zod;
const load = () => (zod ??= process.getBuiltinModule("node:module").createRequire(import.meta.url)("./zod.js").z);
export const z = new Proxy({}, {
  get: (_, key) => Reflect.get(load(), key),
  has: (_, key) => Reflect.has(load(), key),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const found = Reflect.getOwnPropertyDescriptor(load(), key);
    return found && { ...found, configurable: true };
  },
});
`,
      loader: "js",
    }));
  },
});

/**
 * An ES import of a built-in reads every one of its exports, and node:process's and
 * node:util's lazy ones load process.report, util's parseArgs, diff, worker_threads and
 * more: ~9 ms of every command, for commander's `process` and `stripVTControlCharacters`.
 * The same objects, taken without the import; node:child_process (~2 ms) on first use. The build fails if commander's imports change.
 */
export const commanderBuiltins: Plugin = {
  name: "commander-builtins",
  setup(bundle) {
    const imports: Record<string, string> = {
      "import process from 'node:process';": "const process = globalThis.process;",
      // Used only to run an executable subcommand, which clawos has none of.
      "import childProcess from 'node:child_process';":
        "const childProcess = { spawn: (...args) => globalThis.process.getBuiltinModule('node:child_process').spawn(...args) };",
      "import { stripVTControlCharacters } from 'node:util';":
        "const { stripVTControlCharacters } = globalThis.process.getBuiltinModule('node:util');",
    };
    const expected: Record<string, number> = { "command.js": 3, "help.js": 1 };
    bundle.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]\w+\.js$/ }, async (args) => {
      let text = await readFile(args.path, "utf8");
      let found = 0;
      for (const [from, to] of Object.entries(imports)) {
        if (text.includes(from)) found++;
        text = text.replace(from, to);
      }
      const file = basename(args.path);
      if (
        found !== (expected[file] ?? 0) ||
        /from 'node:(?:process|util|child_process)'|childProcess\.(?!spawn\()/.test(text)
      )
        throw new Error(
          `commander-builtins: commander's imports of node:process, node:util or node:child_process changed in ${args.path}`,
        );
      return { contents: text, loader: "js" };
    });
  },
};

/** CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own. */
export const requireBanner = {
  js: 'import { createRequire as __clawosRequire } from "node:module"; const require = __clawosRequire(import.meta.url);',
};
