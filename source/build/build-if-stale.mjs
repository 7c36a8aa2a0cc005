/**
 * `npm start` and `prepare` (which `npx clawos` in the checkout runs on every call): build only
 * when a file the CLI is made from is newer than the bundle, so a start costs a few stat calls
 * instead of a full tsc and esbuild run. Plain JavaScript: it must run before anything is built.
 *
 *   node source/build/build-if-stale.mjs      (`npm run build` always builds)
 *
 * Directories count too: adding, removing or renaming a file changes its directory's mtime.
 * The build's own output goes to stderr, so a command's stdout (`--json`) stays clean.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const BUNDLE = join(root, "dist", "clawos", "bin.js");
/** What `dist/clawos` is made from: the sources, the compiler settings and the dependencies. */
const INPUTS = ["source", "tsconfig.json", "package.json", "package-lock.json"];

/** The newest mtime of `path` and everything under it (0 when it does not exist). */
function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  let latest = stat.mtimeMs;
  if (stat.isDirectory())
    for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const builtAt = statSync(BUNDLE, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (INPUTS.some((input) => newest(join(root, input)) > builtAt)) {
  if (builtAt) process.stderr.write("clawos: the sources changed since the last build; building first…\n");
  // npm's own entry when npm runs this (npm_execpath), so the same npm builds; else npm on PATH.
  const npm = process.env.npm_execpath;
  const [command, args] = npm?.endsWith("npm-cli.js")
    ? [process.execPath, [npm, "run", "build", "--silent"]]
    : ["npm", ["run", "build", "--silent"]];
  const build = spawnSync(command, args, { cwd: root, stdio: ["ignore", 2, 2] });
  process.exitCode = build.status ?? 1;
}
