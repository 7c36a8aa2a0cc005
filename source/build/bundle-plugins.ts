/**
 * esbuild plugins for the bundle (bundle.ts), each a load-time cost of a dependency taken out;
 * the benchmarks bundle their one-line Ink reference with two of them.
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
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

/** CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own. */
export const requireBanner = {
  js: 'import { createRequire as __clawosRequire } from "node:module"; const require = __clawosRequire(import.meta.url);',
};
