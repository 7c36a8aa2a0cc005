// Shared by run-openclaw-test.mjs and openclaw.test.mjs: installs the pinned OpenClaw once
// into a cache directory outside the repo, finds a Node that can run it, and cleans up the
// lock files a gateway leaves in /tmp.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const OPENCLAW_VERSION = "2026.9.6";
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const OK_MARKER = ".clawos-install-ok";
const MIN_NODE = [24, 16, 0];

function nodeVersionOk(version) {
  const [major, minor, patch] = version.replace(/^v/, "").split(".").map(Number);
  if (major >= 26) return minor >= 1 || major > 26;
  if (major !== 24) return false;
  if (minor !== MIN_NODE[1]) return minor > MIN_NODE[1];
  return patch >= MIN_NODE[2];
}

/** A Node binary that OpenClaw accepts (>= 24.16 < 25, or >= 26.1): this one, else the repo's `node` package. */
export function resolveNodeBin() {
  if (nodeVersionOk(process.versions.node)) return process.execPath;
  for (const candidate of [
    join(REPO_ROOT, "node_modules", "node", "bin", "node"),
    join(REPO_ROOT, "node_modules", ".bin", "node"),
  ]) {
    if (!existsSync(candidate)) continue;
    const out = spawnSync(candidate, ["--version"], { encoding: "utf8" });
    if (out.status === 0 && nodeVersionOk(out.stdout.trim())) return candidate;
  }
  throw new Error(
    `OpenClaw ${OPENCLAW_VERSION} needs Node >= 24.16; this is ${process.version} and ` +
      "node_modules/.bin/node is missing or too old (run npm install)",
  );
}

export function cacheDir(env = process.env) {
  return env.CLAWOS_OPENCLAW_CACHE || join(homedir(), ".cache", "clawos", `openclaw-${OPENCLAW_VERSION}`);
}

export function openclawEntry(dir) {
  return join(dir, "node_modules", "openclaw", "openclaw.mjs");
}

function installedVersion(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, "node_modules", "openclaw", "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

function isUsable(dir) {
  return (
    existsSync(join(dir, OK_MARKER)) &&
    installedVersion(dir) === OPENCLAW_VERSION &&
    existsSync(openclawEntry(dir)) &&
    !existsSync(join(dir, "node_modules", "openclaw", ".openclaw-lifecycle-pending"))
  );
}

function run(cmd, args, opts) {
  const out = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
  if (out.error) throw new Error(`${cmd} ${args.join(" ")}: ${out.error.message}`);
  if (out.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${out.status ?? out.signal}\n${(out.stdout ?? "").slice(-4000)}\n${(out.stderr ?? "").slice(-4000)}`,
    );
  }
  return out;
}

/**
 * Make sure openclaw@OPENCLAW_VERSION is installed in the cache dir; install it if not.
 * Returns { dir, entry, nodeBin, installed: boolean, seconds }.
 *
 * The install runs with --ignore-scripts: npm 11 blocks dependency scripts anyway, and none
 * of them is needed (koffi and @lydell/node-pty ship their prebuilt binaries in the registry
 * package; openclaw's own pre/postinstall only check the package manager and prune stale
 * files). OpenClaw notices the skipped lifecycle (`.openclaw-lifecycle-pending`) and
 * finishes it itself on its first run, which we trigger here with `openclaw --version`.
 * The install is built in a sibling temp dir and renamed into place, so a half-finished
 * or concurrent install never looks usable.
 */
export function ensureOpenClaw({ log = console.log, env = process.env } = {}) {
  const dir = cacheDir(env);
  const nodeBin = resolveNodeBin();
  if (isUsable(dir)) return { dir, entry: openclawEntry(dir), nodeBin, installed: false, seconds: 0 };

  const started = Date.now();
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(`${dir}.staging-`);
  const scratchHome = mkdtempSync(join(tmpdir(), "clawos-openclaw-install-home-"));
  const childEnv = {
    ...env,
    PATH: `${dirname(nodeBin)}:${env.PATH ?? ""}`,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
  try {
    log(`# installing openclaw@${OPENCLAW_VERSION} into ${dir} (about 650 MB, once)`);
    writeFileSync(
      join(staging, "package.json"),
      `${JSON.stringify({ name: "clawos-openclaw-cache", private: true, dependencies: { openclaw: OPENCLAW_VERSION } }, null, 2)}\n`,
    );
    run(
      "npm",
      ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"],
      { cwd: staging, env: childEnv, timeout: 10 * 60_000 },
    );
    if (installedVersion(staging) !== OPENCLAW_VERSION) {
      throw new Error(`npm installed openclaw ${installedVersion(staging)}, wanted ${OPENCLAW_VERSION}`);
    }
    // First run: finishes OpenClaw's package lifecycle and proves the binary starts.
    const version = run(nodeBin, [openclawEntry(staging), "--version"], {
      cwd: staging,
      env: { ...childEnv, HOME: scratchHome, OPENCLAW_DISABLE_BONJOUR: "1" },
      timeout: 120_000,
    }).stdout.trim();
    if (!version.includes(OPENCLAW_VERSION))
      throw new Error(`openclaw --version printed ${JSON.stringify(version)}`);
    if (existsSync(join(staging, "node_modules", "openclaw", ".openclaw-lifecycle-pending"))) {
      throw new Error("openclaw did not complete its package lifecycle on first run");
    }
    writeFileSync(join(staging, OK_MARKER), `${version}\n`);
    if (existsSync(dir)) {
      if (isUsable(dir)) {
        // Someone else finished first.
        rmSync(staging, { recursive: true, force: true });
        return { dir, entry: openclawEntry(dir), nodeBin, installed: false, seconds: 0 };
      }
      rmSync(dir, { recursive: true, force: true });
    }
    chmodSync(staging, 0o755);
    renameSync(staging, dir);
    const seconds = (Date.now() - started) / 1000;
    log(`# installed ${version} in ${seconds.toFixed(1)} s`);
    return { dir, entry: openclawEntry(dir), nodeBin, installed: true, seconds };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(scratchHome, { recursive: true, force: true });
  }
}

/**
 * OpenClaw 2026.9.6 keeps zero-byte SQLite lock files in /tmp/openclaw-state-locks-<uid>/,
 * named <family>.<sha256(database path)[0..8]>.lock.sqlite, and never removes them. Remove
 * the ones for the databases under `stateDir` (never another gateway's) once it has stopped.
 */
export function removeStateLocks(stateDir) {
  const uid = process.getuid?.();
  const dir = uid === undefined ? "/tmp/openclaw-state-locks" : `/tmp/openclaw-state-locks-${uid}`;
  let realState;
  try {
    realState = realpathSync(stateDir);
  } catch {
    // Gone (a rolled-back migration moves its copy aside): its locks were named after this path.
    realState = resolve(stateDir);
  }
  const hashes = [
    join(realState, "state", "openclaw.sqlite"),
    join(realState, "agents", "main", "agent", "openclaw-agent.sqlite"),
  ].map((p) => createHash("sha256").update(p).digest("hex").slice(0, 8));
  try {
    for (const name of readdirSync(dir)) {
      if (hashes.some((h) => name.endsWith(`.${h}.lock.sqlite`))) rmSync(join(dir, name), { force: true });
    }
  } catch {}
}
