/**
 * A private copy of the build for the soak to run, and which source it came from.
 */
import { execFile } from "node:child_process";
import { cp, symlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

const DIST = fileURLToPath(new URL("../../..", import.meta.url));
const REPO = join(DIST, "..");

/**
 * Others rebuild dist/ while a soak runs; a dispatch that loads a half-written module then
 * dies at import. Run the CLI from a copy of dist/ taken at the start instead.
 */
export async function snapshotBuild(root: string): Promise<{ bin: string; stub: string }> {
  const app = join(root, "app");
  await cp(join(DIST, "source"), join(app, "dist", "source"), { recursive: true });
  await cp(join(DIST, "test", "testkit"), join(app, "dist", "test", "testkit"), { recursive: true });
  await cp(join(REPO, "package.json"), join(app, "package.json"));
  await symlink(join(REPO, "node_modules"), join(app, "node_modules"), "dir");
  return {
    bin: join(app, "dist", "source", "bin.js"),
    stub: join(app, "dist", "test", "testkit", "stub-gateway-main.js"),
  };
}

/** Which source the soak ran (read-only git commands). */
export async function sourceState(): Promise<{ commit: string; changedFiles: string[] }> {
  try {
    const commit = (await run("git", ["-C", REPO, "rev-parse", "--short", "HEAD"])).stdout.trim();
    const status = await run("git", [
      "--no-optional-locks",
      "-C",
      REPO,
      "status",
      "--porcelain",
      "--",
      "source",
    ]);
    return {
      commit,
      changedFiles: status.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.trim()),
    };
  } catch {
    return { commit: "unknown", changedFiles: [] };
  }
}
