/**
 * A stand-in `openclaw` command for incubation tests: `onboard`, `config set` and `config patch --stdin` edit
 * ~/.openclaw-<profile>/openclaw.json like the real one; `gateway run` serves the stub
 * gateway on the configured port with the configured token. FAKE_OPENCLAW_MODE (or the file
 * ~/.fake-openclaw-mode, for a run over SSH) makes it fail on purpose: "onboard-fails",
 * "never-ready" (the gateway never listens), "exits" (the gateway dies at start) or "no-model-auth"
 * (the gateway runs, but its turns fail as OpenClaw's do for a model without credentials).
 * Like the real one, onboard writes absolute paths (workspace, agentDir) into the config
 * and keeps the agent's model credentials in agents/main/agent/auth-profiles.json.
 * `gateway install|start|stop|restart|uninstall` play a service manager (the gateway runs
 * detached, its pid in the profile's .fake-service); `gateway status --json` reports it.
 * `backup create|restore` make and unpack an archive laid out like the real one's.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const STUB_MAIN = fileURLToPath(new URL("./stub-gateway-main.js", import.meta.url));

export async function installFakeOpenclaw(binDir: string): Promise<string> {
  await mkdir(binDir, { recursive: true });
  const script = `#!/usr/bin/env node
const fs = require("node:fs");
const path = require("node:path");
const { spawn } = require("node:child_process");
const args = process.argv.slice(2);
let profile = null;
if (args[0] === "--profile") { profile = args[1]; args.splice(0, 2); }
const dir = path.join(process.env.HOME, profile ? ".openclaw-" + profile : ".openclaw");
const file = path.join(dir, "openclaw.json");
const modeFile = path.join(process.env.HOME, ".fake-openclaw-mode");
const mode = process.env.FAKE_OPENCLAW_MODE || (fs.existsSync(modeFile) ? fs.readFileSync(modeFile, "utf8").trim() : "");
const serviceFile = path.join(dir, ".fake-service");
const readService = () => { try { return JSON.parse(fs.readFileSync(serviceFile, "utf8")); } catch { return { installed: false, pid: 0 }; } };
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
// FAKE_OPENCLAW_CALLS: append each call's argv and the secrets it got by environment, one JSON line each.
if (process.env.FAKE_OPENCLAW_CALLS)
  fs.appendFileSync(process.env.FAKE_OPENCLAW_CALLS, JSON.stringify({ argv: process.argv.slice(2), CUSTOM_API_KEY: process.env.CUSTOM_API_KEY }) + "\\n");
if (args[0] === "onboard") {
  if (mode === "onboard-fails") { console.error("onboard: simulated failure"); process.exit(1); }
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.join(dir, "workspace"), { recursive: true });
  fs.writeFileSync(path.join(dir, "workspace", "SOUL.md"), "# soul of " + profile + "\\n");
  const agentDir = path.join(dir, "agents", "main", "agent");
  fs.mkdirSync(agentDir, { recursive: true });
  fs.writeFileSync(path.join(agentDir, "auth-profiles.json"), JSON.stringify({ profiles: { "fake:default": { key: "sk-fake" } } }), { mode: 0o600 });
  fs.mkdirSync(path.join(dir, "agents", "main", "sessions"), { recursive: true });
  fs.writeFileSync(path.join(dir, "agents", "main", "sessions", "sessions.json"), "{}");
  const workspace = path.join(dir, "workspace");
  const config = {
    agents: { defaults: { workspace }, entries: { main: { workspace, agentDir } } },
    gateway: { mode: "local", port: Number(opt("--gateway-port")), bind: "loopback", auth: { mode: "token", token: opt("--gateway-token") || require("node:crypto").randomBytes(24).toString("hex") } },
  };
  // Like the real one: the custom provider's key from --custom-api-key, else from CUSTOM_API_KEY.
  const providerId = opt("--custom-provider-id");
  if (providerId) config.models = { providers: { [providerId]: { baseUrl: opt("--custom-base-url"), apiKey: opt("--custom-api-key") || process.env.CUSTOM_API_KEY } } };
  fs.writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  console.log(JSON.stringify({ ok: true }));
} else if (args[0] === "config" && args[1] === "set") {
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  let cursor = config;
  const parts = args[2].split(".");
  for (const p of parts.slice(0, -1)) cursor = cursor[p] = cursor[p] || {};
  let value = args[3];
  try { value = JSON.parse(value); } catch {}
  cursor[parts.at(-1)] = value;
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
} else if (args[0] === "config" && args[1] === "patch" && args[2] === "--stdin") {
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  const merge = (into, from) => { for (const [k, v] of Object.entries(from)) { if (v && typeof v === "object" && !Array.isArray(v)) merge(into[k] = into[k] || {}, v); else into[k] = v; } };
  merge(config, JSON.parse(fs.readFileSync(0, "utf8")));
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
} else if (args[0] === "gateway" && args[1] === "run") {
  if (mode === "never-ready") { setInterval(() => {}, 1000); return; }
  if (mode === "exits") { console.error("gateway: simulated crash at start"); process.exit(1); }
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  // On another machine, a path under this machine's home would not exist.
  const ws = config.agents && config.agents.defaults && config.agents.defaults.workspace;
  if (ws && !ws.startsWith(process.env.HOME + "/")) { console.error("gateway: workspace " + ws + " is not on this machine"); process.exit(1); }
  const child = spawn(process.execPath, [${JSON.stringify(STUB_MAIN)}, "--port", String(config.gateway.port), "--token", config.gateway.auth.token, "--reply", "incubated node says hi", ...(mode === "no-model-auth" ? ["--mode", "no-model-auth"] : [])], { stdio: "inherit" });
  const stop = () => child.kill("SIGTERM");
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  child.on("exit", (code) => process.exit(code ?? 0));
} else if (args[0] === "gateway" && args[1] === "status") {
  // Only what clawos reads: whether a service is loaded, and who listens on the port.
  const service = readService();
  const listening = service.pid && alive(service.pid);
  console.log(JSON.stringify({ service: { loaded: service.installed }, port: { listeners: listening ? [{ pid: service.pid }] : [] } }));
} else if (args[0] === "gateway" && ["install", "start", "stop", "restart", "uninstall"].includes(args[1])) {
  // A stand-in service manager: the gateway runs detached, its pid in the profile's .fake-service.
  const service = readService();
  const running = service.pid && alive(service.pid);
  if (args[1] !== "install" && !service.installed) { console.error("Gateway service not installed."); process.exit(1); }
  if ((args[1] === "stop" || args[1] === "restart" || args[1] === "uninstall") && running) {
    try { process.kill(-service.pid, "SIGTERM"); } catch {}
    const until = Date.now() + 5000;
    while (alive(service.pid) && Date.now() < until) require("node:child_process").spawnSync("sleep", ["0.1"]);
    service.pid = 0;
  }
  if (args[1] === "uninstall") { fs.rmSync(serviceFile, { force: true }); process.exit(0); }
  if (args[1] !== "stop" && !(args[1] === "start" && running)) {
    const child = spawn(process.execPath, [__filename, ...(profile ? ["--profile", profile] : []), "gateway", "run"], { detached: true, stdio: "ignore" });
    child.unref();
    service.pid = child.pid;
  }
  fs.writeFileSync(serviceFile, JSON.stringify({ installed: true, pid: service.pid }));
} else if (args[0] === "backup" && args[1] === "create") {
  // Like the real one: the whole state dir in <root>/payload/posix/<absolute path>, a manifest naming it.
  const { execFileSync } = require("node:child_process");
  const root = new Date().toISOString().replace(/:/g, "-") + "-openclaw-backup";
  const work = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "fake-backup-"));
  const archivePath = path.join(opt("--output"), root + ".tar.gz");
  const payload = path.join(root, "payload", "posix", dir.slice(1));
  fs.cpSync(dir, path.join(work, payload), { recursive: true, filter: (f) => !f.endsWith(".fake-service") });
  fs.writeFileSync(path.join(work, root, "manifest.json"), JSON.stringify({ schemaVersion: 1, assets: [{ kind: "state", sourcePath: dir, archivePath: payload }] }));
  execFileSync("tar", ["-czf", archivePath, "-C", work, root]);
  fs.rmSync(work, { recursive: true, force: true });
  console.log(JSON.stringify({ archiveRoot: root, archivePath, verified: args.includes("--verify"), assets: [] }));
} else if (args[0] === "backup" && args[1] === "restore") {
  const target = opt("--target");
  if (fs.existsSync(target) && fs.readdirSync(target).length) { console.error("restore: target is not empty"); process.exit(1); }
  fs.mkdirSync(target, { recursive: true });
  require("node:child_process").execFileSync("tar", ["-xzf", args[2], "-C", target]);
  console.log(JSON.stringify({ ok: true, archiveRoot: fs.readdirSync(target)[0] }));
} else if (args[0] === "--version") {
  // ~/.fake-openclaw-version plays an older or newer install.
  const versionFile = path.join(process.env.HOME, ".fake-openclaw-version");
  console.log("OpenClaw " + (fs.existsSync(versionFile) ? fs.readFileSync(versionFile, "utf8").trim() : "2026.9.6") + " (fake)");
} else {
  console.error("fake openclaw: unsupported " + args.join(" "));
  process.exit(2);
}
`;
  const path = join(binDir, "openclaw");
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}
