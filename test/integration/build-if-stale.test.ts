/**
 * `npm start` and `prepare` (which `npx clawos` runs in the checkout) build only when a source
 * is newer than the bundle. The real script runs here in a throwaway tree whose `npm run build`
 * only counts its calls, so the checkout's own dist is never touched while other tests use it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const SCRIPT = fileURLToPath(new URL("../../../source/build/build-if-stale.mjs", import.meta.url));
const run = promisify(execFile);
let root: string;

/** The build: says something on stdout (which must not reach the caller's stdout), counts itself. */
const MAKE = `import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
console.log("built, on stdout");
mkdirSync("dist/clawos", { recursive: true });
writeFileSync("dist/clawos/bin.js", "// bundle\\n");
appendFileSync("builds.log", "built\\n");
`;

async function start(): Promise<{ builds: number; stdout: string; stderr: string }> {
  const { stdout, stderr } = await run(
    process.execPath,
    [join(root, "source", "build", "build-if-stale.mjs")],
    {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: root },
    },
  );
  const log = await readFile(join(root, "builds.log"), "utf8").catch(() => "");
  return { builds: log.split("\n").filter(Boolean).length, stdout, stderr };
}

/** Sets the times of these paths (relative to the tree) to `secondsAgo` in the past. */
async function age(paths: string[], secondsAgo: number): Promise<void> {
  const at = new Date(Date.now() - secondsAgo * 1000);
  for (const p of paths) await utimes(join(root, p), at, at);
}

const SOURCES = ["source", "source/build", "source/build/build-if-stale.mjs", "source/a.ts", "source/b.ts"];

before(async () => {
  root = await mkdtemp(join(tmpdir(), "clawos-build-"));
  await mkdir(join(root, "source", "build"), { recursive: true });
  await copyFile(SCRIPT, join(root, "source", "build", "build-if-stale.mjs"));
  await writeFile(join(root, "source", "a.ts"), "export const a = 1;\n");
  await writeFile(join(root, "source", "b.ts"), "export const b = 2;\n");
  await writeFile(join(root, "tsconfig.json"), "{}\n");
  await writeFile(join(root, "make.mjs"), MAKE);
  await writeFile(
    join(root, "package.json"),
    JSON.stringify({ name: "stale-check", private: true, scripts: { build: "node make.mjs" } }),
  );
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test("no bundle yet: it builds, and the build's stdout goes to stderr", async () => {
  const r = await start();
  assert.equal(r.builds, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /built, on stdout/);
});

test("nothing changed since the build: no build, no output", async () => {
  await age([...SOURCES, "tsconfig.json", "package.json"], 200);
  await age(["dist/clawos/bin.js"], 100);
  const r = await start();
  assert.equal(r.builds, 1);
  assert.equal(`${r.stdout}${r.stderr}`, "");
});

test("a source newer than the bundle: it builds, and says why", async () => {
  await age(["source/a.ts"], 50);
  const r = await start();
  assert.equal(r.builds, 2);
  assert.match(r.stderr, /the sources changed since the last build; building first/);
  assert.equal((await start()).builds, 2, "and then it is fresh again");
});

test("a deleted source counts as a change (its directory's time moves)", async () => {
  await age([...SOURCES, "tsconfig.json", "package.json"], 200);
  await age(["dist/clawos/bin.js"], 100);
  assert.equal((await start()).builds, 2);
  await rm(join(root, "source", "b.ts"));
  assert.equal((await start()).builds, 3);
});
