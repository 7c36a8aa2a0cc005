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
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { INK_OUTPUT, INK_OUTPUT_ORIGINAL, TEXT_CACHES } from "../ui/load-tui.js";
import { escapeChunks } from "./ascii-chunks.js";
import {
  commanderBuiltins,
  lazyZod,
  reactProduction,
  requireBanner,
  yogaWithoutFetch,
  zodEnglishOnly,
} from "./bundle-plugins.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const outdir = `${root}dist/clawos`;

await rm(outdir, { recursive: true, force: true });
await build({
  // zod is an entry of its own, dist/clawos/zod.js, loaded by the first schema built (see lazyZod).
  entryPoints: { bin: `${root}dist/source/bin.js`, zod: fileURLToPath(import.meta.resolve("zod")) },
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
    reactProduction,
    zodEnglishOnly,
    yogaWithoutFetch,
    lazyZod(root),
    commanderBuiltins,
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
  banner: requireBanner,
});
await escapeChunks(outdir); // one non-ASCII character doubles a chunk's source in memory
