// npm run test:openclaw — dispatch through a REAL OpenClaw gateway, fully offline.
//
// Recipe (ARCHITECTURE.md §5), as this runner and openclaw.test.mjs carry it out:
//  1. openclaw@2026.9.6 (pinned) is installed once into $CLAWOS_OPENCLAW_CACHE or
//     ~/.cache/clawos/openclaw-2026.9.6 with `npm install --ignore-scripts` (~650 MB,
//     ~30 s); later runs reuse it after checking the installed version. The first
//     `openclaw --version` finishes OpenClaw's own package lifecycle (it notices the skipped
//     scripts). OpenClaw needs Node >= 24.16: we use this Node or node_modules/.bin/node.
//  2. fake-provider.mjs serves an OpenAI-compatible /v1/chat/completions on 127.0.0.1 that
//     answers "Fake provider reply: the magic word is <word>." (the gateway calls it with
//     stream:true).
//  3. A temp HOME gets ~/.openclaw/openclaw.json: models.providers.fake (api
//     "openai-completions", baseUrl http://127.0.0.1:PORT/v1), agents.defaults.model.primary
//     "fake/fake-echo-1", gateway {mode:"local", port: a free one, bind:"loopback",
//     auth {mode:"token", token}, http.endpoints.chatCompletions.enabled:true},
//     discovery.mdns.mode "off", update.checkOnStart false, models.catalogRefresh.enabled
//     false (else it looks up catalog.openclaw.ai), logging.file in the temp dir; env
//     OPENCLAW_DISABLE_BONJOUR=1.
//  4. `openclaw gateway run` runs in the foreground as a child (own process group), we wait
//     for /startupz 200 (~15-20 s on 2 cores; allowed 180 s), check /v1/models and a
//     streamed chat completion directly, then run OUR CLI with HOME=<temp>:
//     `dist/source/bin.js init` and `dist/source/bin.js dispatch "<text>" --to main --wait`,
//     and expect the fake model's sentence on stdout and exit 0.
//  5. The gateway and the provider are always stopped; the temp dir is removed; on failure
//     the gateway's log tail is printed. Hard timeout: CLAWOS_OPENCLAW_TIMEOUT_MS (20 min).
//
// Env: CLAWOS_OPENCLAW_CACHE (install dir), CLAWOS_OPENCLAW_TIMEOUT_MS, CLAWOS_OPENCLAW_KEEP=1
// (keep the temp dir for a post-mortem).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureOpenClaw, OPENCLAW_VERSION, REPO_ROOT, removeStateLocks } from "./openclaw-support.mjs";

const HARD_TIMEOUT_MS = Number(process.env.CLAWOS_OPENCLAW_TIMEOUT_MS) || 20 * 60_000;
const testFile = join(REPO_ROOT, "test", "openclaw", "openclaw.test.mjs");

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function log(message) {
  process.stdout.write(`${message}\n`);
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function leftoverGateway(tmpRoot) {
  try {
    const pid = Number(readFileSync(join(tmpRoot, "gateway.pid"), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function tail(path, lines = 80) {
  try {
    return readFileSync(path, "utf8")
      .replace(/\x1b\[[0-9;]*m/g, "")
      .split("\n")
      .slice(-lines)
      .join("\n");
  } catch {
    return "(no log)";
  }
}

async function main() {
  const t0 = Date.now();
  let install;
  try {
    install = ensureOpenClaw({ log });
  } catch (error) {
    log(`# could not install openclaw@${OPENCLAW_VERSION}: ${error.message}`);
    log("0 passed, 1 failed");
    return 1;
  }
  log(
    `# openclaw@${OPENCLAW_VERSION} ${install.installed ? `installed in ${install.seconds.toFixed(1)} s` : "cached"}: ${install.dir}`,
  );
  log(`# node for openclaw: ${install.nodeBin}`);

  const tmpRoot = mkdtempSync(join(tmpdir(), "clawos-openclaw-test-"));
  const child = spawn(install.nodeBin, ["--test", "--test-reporter=spec", "--test-concurrency=1", testFile], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CLAWOS_OPENCLAW_ENTRY: install.entry,
      CLAWOS_OPENCLAW_NODE: install.nodeBin,
      CLAWOS_OPENCLAW_TMP: tmpRoot,
    },
    stdio: ["ignore", "inherit", "inherit"],
    detached: true, // own process group, so the hard timeout reaches the test process too
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    log(`# hard timeout (${HARD_TIMEOUT_MS / 1000} s): stopping the test`);
    killGroup(child.pid, "SIGTERM");
    setTimeout(() => killGroup(child.pid, "SIGKILL"), 20_000).unref();
  }, HARD_TIMEOUT_MS);
  const forward = (sig) => () => {
    killGroup(child.pid, sig);
  };
  process.on("SIGINT", forward("SIGINT"));
  process.on("SIGTERM", forward("SIGTERM"));

  const { code, signal } = await exited;
  clearTimeout(timer);

  // The test stops the gateway itself; this catches a test process that died first.
  const pid = leftoverGateway(tmpRoot);
  if (pid && killGroup(pid, 0)) {
    log(`# stopping leftover gateway process group ${pid}`);
    killGroup(pid, "SIGTERM");
    for (let i = 0; i < 50 && killGroup(pid, 0); i++) await sleep(100);
    killGroup(pid, "SIGKILL");
    await sleep(500);
  }
  // And the incubated node's gateways, here and on the loopback "remote" (a migration test).
  for (const pidOf of [
    () => readFileSync(join(tmpRoot, "home", ".openclaw", "clawos", "run", "beta.gateway.pid"), "utf8"),
    () =>
      JSON.parse(
        readFileSync(join(tmpRoot, "home", ".openclaw", "clawos", "migrations", "beta.json"), "utf8"),
      ).remote?.pid,
  ]) {
    let other = null;
    try {
      other = Number(String(pidOf()).trim()) || null;
    } catch {}
    if (other && killGroup(other, 0)) {
      log(`# stopping leftover gateway process group ${other}`);
      killGroup(other, "SIGTERM");
      for (let i = 0; i < 50 && killGroup(other, 0); i++) await sleep(100);
      killGroup(other, "SIGKILL");
    }
  }
  removeStateLocks(join(tmpRoot, "home", ".openclaw"));
  const ok = code === 0 && !timedOut;
  if (!ok && (timedOut || signal) && existsSync(join(tmpRoot, "gateway.log"))) {
    log(`# --- gateway log tail ---\n${tail(join(tmpRoot, "gateway.log"))}\n# --- end ---`);
  }
  if (process.env.CLAWOS_OPENCLAW_KEEP === "1") log(`# kept ${tmpRoot}`);
  else rmSync(tmpRoot, { recursive: true, force: true });
  log(`# real-OpenClaw test ${ok ? "passed" : "FAILED"} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (timedOut) log("0 passed, 1 failed");
  return ok ? 0 : 1;
}

process.exitCode = await main();
