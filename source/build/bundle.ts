/**
 * Bundles the compiled CLI (dist/source) into dist/clawos: what `clawos` runs.
 *
 * Why: a one-shot command such as `clawos status` spent most of its time resolving and
 * linking a few hundred ES modules (undici, zod, commander…) before doing anything. One
 * file per entry, with the control center, the SSH route and the NATS driver split into
 * chunks that load only when used, starts about a third faster (BENCHMARKS.md).
 *
 *   node dist/source/build/bundle.js      (run by `npm run build`, after tsc)
 */
import { readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { INK_OUTPUT, INK_OUTPUT_ORIGINAL, TEXT_CACHES } from "../ui/load-tui.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const outdir = `${root}dist/clawos`;

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { bin: `${root}dist/source/bin.js` },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // esbuild otherwise rewrites regex literals with \p{…} or the v flag (which every Node we
  // support has) into `new RegExp(…)` calls, and one of Ink's sits in a per-character loop
  // of every frame: a new RegExp object per character drawn.
  supported: { "regexp-unicode-property-escapes": true, "regexp-set-notation": true },
  logLevel: "warning",
  // ssh2 loads an optional native addon by a relative path, so it stays a package; the
  // devtools bridge is only imported by Ink in development mode.
  external: ["ssh2", "cpu-features", "react-devtools-core"],
  // Ink's text work remembered across frames (source/ui/width.ts, ansi-cache.ts; load-tui.ts
  // does the same with a resolve hook when unbundled).
  plugins: [
    {
      // React's packages pick their build at run time from NODE_ENV, so the bundle held both
      // (react-reconciler's development build alone is 1 MB, parsed and kept in memory by the
      // control center, never run: production.ts sets NODE_ENV first). Only the production
      // build goes in; a process that wants the development one runs dist/source.
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
    },
    {
      // `z` carries zod's error messages in ~50 languages (`z.locales`), two fifths of the zod
      // chunk every command loads; nothing here switches language, and zod imports its English
      // messages on their own. Only those stay.
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
    },
    {
      // yoga (Ink's layout) loads its wasm, held as a base64 data: URL, through `fetch` when
      // there is one: in Node that loads Node's own copy of undici first, ~60 ms of CPU before
      // the control center's first frame. Without `fetch` it decodes the same bytes itself.
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
    },
    {
      name: "text-caches",
      setup(bundle) {
        for (const [pkg, file] of Object.entries(TEXT_CACHES)) {
          const ours = `${root}dist/source/ui/${file.replace(/^\.\//, "")}`;
          const filter = new RegExp(`^${pkg.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
          bundle.onResolve({ filter }, (args) => (args.importer === ours ? undefined : { path: ours }));
        }
        // Ink's Output, drawing only the rows that changed (ui/ink-output.ts).
        const output = `${root}dist/source/ui/${INK_OUTPUT.file.replace(/^\.\//, "")}`;
        bundle.onResolve({ filter: /^\.\/output\.js$/ }, (args) =>
          INK_OUTPUT.importer.test(args.importer) ? { path: output } : undefined,
        );
        bundle.onResolve({ filter: new RegExp(`^${INK_OUTPUT_ORIGINAL.replaceAll(".", "\\.")}$`) }, (args) =>
          args.importer === output
            ? { path: fileURLToPath(new URL("./output.js", import.meta.resolve("ink"))) }
            : undefined,
        );
      },
    },
  ],
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: {
    js: 'import { createRequire as __clawosRequire } from "node:module"; const require = __clawosRequire(import.meta.url);',
  },
});
