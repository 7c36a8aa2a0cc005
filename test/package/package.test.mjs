// The packed tarball installs into a fresh prefix and the installed `clawos` runs there,
// outside npm scripts, with whatever Node comes first on PATH (here the pinned Node 24).
// Run: npm run test:package (CI runs it after npm test).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const work = mkdtempSync(join(tmpdir(), "clawos-pack-"));
const nodeDir = dirname(process.execPath);
const env = { ...process.env, PATH: `${nodeDir}:${process.env.PATH}`, npm_config_update_notifier: "false" };
for (const key of Object.keys(env)) if (/^npm_(lifecycle|package)/.test(key)) delete env[key];

after(() => rmSync(work, { recursive: true, force: true }));

test("npm pack → npm install -g into a fresh prefix → clawos runs there", { timeout: 600_000 }, () => {
  execFileSync("npm", ["pack", "--pack-destination", work], {
    cwd: repo,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack made a tarball");
  const prefix = join(work, "prefix");
  execFileSync(
    "npm",
    ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "--prefer-offline", join(work, tarball)],
    {
      cwd: work,
      env,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const bin = join(prefix, "bin", "clawos");
  assert.ok(existsSync(bin), "the clawos command is installed");
  const home = join(work, "home");
  mkdirSync(home);
  const runEnv = { PATH: env.PATH, HOME: home, NO_COLOR: "1" };
  const opts = { cwd: home, env: runEnv, encoding: "utf8" };
  const version = execFileSync(bin, ["--version"], opts).trim();
  assert.match(version, /^\d+\.\d+\.\d+$/);
  assert.match(execFileSync(bin, ["--help"], opts), /Control center for a federation of OpenClaw gateways/);
  const status = execFileSync(bin, ["status"], opts);
  assert.match(status, /No nodes yet/);
  assert.match(status, /Tasks: 0 pending/);
  assert.ok(
    !existsSync(join(prefix, "lib", "node_modules", "clawos-federation", "test")),
    "tests are not shipped",
  );
});
