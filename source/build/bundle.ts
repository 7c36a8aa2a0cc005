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
  logLevel: "warning",
  // ssh2 loads an optional native addon by a relative path, so it stays a package; the
  // devtools bridge is only imported by Ink in development mode.
  external: ["ssh2", "cpu-features", "react-devtools-core"],
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: {
    js: 'import { createRequire as __clawosRequire } from "node:module"; const require = __clawosRequire(import.meta.url);',
  },
});
