import { chmod, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import JSON5 from "json5";
import { describeError, UserError } from "../domain/errors.js";
import { count } from "../domain/plural.js";
import type { NodeConfig } from "../domain/schema.js";
import { type LoadedConfig, loadConfig, routeOf, thisMachine, tokenFilePath } from "../infra/config.js";
import { displayPath, openclawStateDir } from "../infra/paths.js";
import { checkDirectoryBlackboard } from "./doctor-blackboard.js";
import { checkNodesAndRecords, openFederation } from "./doctor-federation.js";
import { checkSsh } from "./doctor-ssh.js";
import { checkWorker } from "./doctor-worker.js";
import { PORT_SPACING, portOverlaps } from "./gateway-ports.js";

export type CheckLevel = "ok" | "warn" | "fail";

export interface Check {
  area: string;
  level: CheckLevel;
  message: string;
  fix?: string;
  /** Set when --fix repaired it. */
  fixed?: boolean;
}

/** Each check group reports its findings through this, in the order they are found. */
export type AddCheck = (check: Check) => void;

/** `clawos doctor`: one line per finding, each with the fix. `fix` repairs only what is safe to repair. */
export async function runDoctor(
  home: string,
  env: NodeJS.ProcessEnv,
  options: { fix?: boolean } = {},
): Promise<Check[]> {
  const checks: Check[] = [];
  const add: AddCheck = (c) => checks.push(c);
  checkNodeVersion(add);
  const loaded = await checkConfig(home, env, add);
  if (!loaded) return checks;
  const machine = thisMachine(loaded.config, env);
  const opened = await openFederation(home, env, loaded);
  try {
    // The registry is on the blackboard: without it, only what federation.json still lists.
    const nodes = "core" in opened ? opened.core.nodes : (loaded.config.nodes ?? []);
    if (loaded.exists)
      add({
        area: "config",
        level: "ok",
        message: `${displayPath(loaded.path, env)}: ${count(nodes.length, "node")}`,
      });
    await checkTokenFiles(nodes, home, env, options, add);
    await checkLocalProfiles(nodes, machine, env, add);
    checkPortSpacing(nodes, machine, add);
    if (loaded.config.blackboard.driver === "directory") await checkDirectoryBlackboard(loaded, env, add);
    await checkNodesAndRecords(opened, add);
    if ("core" in opened) await checkWorker(opened.core, add);
    await checkSsh(nodes, env, add);
  } finally {
    if ("core" in opened) await opened.core.close();
  }
  return checks;
}

function checkNodeVersion(add: AddCheck): void {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 19)) {
    add({
      area: "node",
      level: "fail",
      message: `Node ${process.versions.node} is too old for clawos`,
      fix: "install Node 24 (OpenClaw needs ≥ 24.16 anyway)",
    });
  } else if (major < 24) {
    add({
      area: "node",
      level: "warn",
      message: `Node ${process.versions.node} runs clawos, but OpenClaw needs ≥ 24.16`,
      fix: "install Node 24",
    });
  } else add({ area: "node", level: "ok", message: `Node ${process.versions.node}` });
}

/** The config, or undefined when it cannot be loaded: the checks after it need it. */
async function checkConfig(
  home: string,
  env: NodeJS.ProcessEnv,
  add: AddCheck,
): Promise<LoadedConfig | undefined> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(home);
  } catch (error) {
    add({
      area: "config",
      level: "fail",
      message: describeError(error).split("\n")[0] ?? "invalid config",
      ...(error instanceof UserError && error.hint ? { fix: error.hint } : {}),
    });
    return undefined;
  }
  if (!loaded.exists) {
    add({
      area: "config",
      level: "warn",
      message: `no ${displayPath(loaded.path, env)} yet`,
      fix: "clawos init",
    });
  }
  return loaded;
}

/** Token files: present, mode 0600 (`--fix` sets it). */
async function checkTokenFiles(
  nodes: NodeConfig[],
  home: string,
  env: NodeJS.ProcessEnv,
  options: { fix?: boolean },
  add: AddCheck,
): Promise<void> {
  for (const node of nodes) {
    if (!("file" in node.token)) continue;
    const file = tokenFilePath(node.token.file, home, env);
    try {
      const mode = (await stat(file)).mode & 0o777;
      if (mode & 0o077) {
        let fixed = false;
        if (options.fix) {
          await chmod(file, 0o600);
          fixed = true;
        }
        add({
          area: "tokens",
          level: fixed ? "ok" : "fail",
          message: `${node.id}: token file ${displayPath(file, env)} has mode ${mode.toString(8)}; others can read it`,
          fix: `chmod 600 ${file}`,
          ...(fixed ? { fixed } : {}),
        });
      } else add({ area: "tokens", level: "ok", message: `${node.id}: token file mode 600` });
    } catch {
      add({
        area: "tokens",
        level: "fail",
        message: `${node.id}: token file ${displayPath(file, env)} is missing`,
        fix: "write the gateway token there (mode 600), or change the node's token source",
      });
    }
  }
}

/** Local profiles: chat completions on. */
async function checkLocalProfiles(
  nodes: NodeConfig[],
  machine: string,
  env: NodeJS.ProcessEnv,
  add: AddCheck,
): Promise<void> {
  for (const node of nodes.filter((n) => routeOf(n, machine) === "localhost")) {
    const file = join(openclawStateDir(node.profile, env), "openclaw.json");
    try {
      const config = JSON5.parse(await readFile(file, "utf8")) as {
        gateway?: { http?: { endpoints?: { chatCompletions?: { enabled?: unknown } } } };
      };
      if (config.gateway?.http?.endpoints?.chatCompletions?.enabled !== true) {
        add({
          area: "openclaw",
          level: "fail",
          message: `${node.id}: chat completions are off in ${displayPath(file, env)} (every task would get 404)`,
          fix: `openclaw ${node.profile ? `--profile ${node.profile} ` : ""}config set gateway.http.endpoints.chatCompletions.enabled true`,
        });
      }
    } catch {
      // A node whose profile lives elsewhere: the node probe says what matters.
    }
  }
}

/** Ports closer than PORT_SPACING on this machine, each with the commands that move one. */
function checkPortSpacing(nodes: NodeConfig[], machine: string, add: AddCheck): void {
  const local = nodes
    .filter((n) => n.machine === machine && n.port !== null)
    .map((n) => ({ id: n.id, port: n.port!, profile: n.profile }));
  const overlaps = portOverlaps(local);
  for (const o of overlaps) add({ area: "ports", level: "warn", message: o.text, fix: o.fix });
  if (local.length > 1 && overlaps.length === 0)
    add({
      area: "ports",
      level: "ok",
      message: `gateways on this machine are at least ${PORT_SPACING} ports apart`,
    });
}
