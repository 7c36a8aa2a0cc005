import { spawn } from "node:child_process";
import { constants, openSync, statSync } from "node:fs";
import { access, copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../domain/errors.js";
import { MAX_MACHINE_NAME } from "../domain/registry.js";
import { type BlackboardConfig, FederationConfig } from "../domain/schema.js";
import { loadConfig, saveConfig } from "../infra/config.js";
import { displayPath, expandTilde } from "../infra/paths.js";

/** `clawos join`: this machine into an existing federation (see joinFederation). */
export interface JoinOptions {
  as: string;
  nats?: string;
  domain?: string;
  blackboard?: string;
  /** The machine whose worker does the directory blackboard's coordinator duties (the hub). */
  coordinator?: string;
  force?: boolean;
}

export interface Joined {
  configPath: string;
  /** Where the federation.json this one replaced was kept (--force). */
  keptAs?: string;
  notes: string[];
}

/**
 * Check that the blackboard answers, then write this machine's federation.json: its name and
 * that blackboard, keeping its own token sources, timing and keys. A federation.json naming
 * another machine or blackboard is replaced only with `force` (and kept beside as .bak).
 */
export async function writeJoinConfig(
  home: string,
  env: NodeJS.ProcessEnv,
  options: JoinOptions,
): Promise<Joined> {
  const name = options.as.trim();
  if (!name || name.length > MAX_MACHINE_NAME || /[\s/\\]/.test(name))
    throw new UserError(`"${name.slice(0, 40)}" cannot name a machine.`, {
      hint: "use its short name without spaces or slashes, e.g. macbook-air",
      code: "usage",
    });
  if (Boolean(options.nats) === Boolean(options.blackboard))
    throw new UserError("Give the federation's blackboard: --nats URL or --blackboard DIR (one of them).", {
      code: "usage",
    });
  if (options.domain && !options.nats) throw new UserError("--domain goes with --nats.", { code: "usage" });
  const blackboard = await reachableBlackboard(env, options);
  const loaded = await loadConfig(home);
  const notes: string[] = [];
  let keptAs: string | undefined;
  if (loaded.exists) {
    const same =
      (loaded.config.machine ?? name) === name && sameBlackboard(loaded.config.blackboard, blackboard);
    if (!same && !options.force)
      throw new UserError(
        `${displayPath(loaded.path, env)} already belongs to a federation (machine ${loaded.config.machine ?? "unnamed"}, blackboard ${describeBlackboard(loaded.config.blackboard)}).`,
        {
          hint: "add --force to join this one instead (the old file is kept as federation.json.bak), or run clawos with another --home",
          code: "usage",
        },
      );
    if (!same) {
      keptAs = `${loaded.path}.bak`;
      await copyFile(loaded.path, keptAs);
      notes.push(`the old ${displayPath(loaded.path, env)} is kept as ${displayPath(keptAs, env)}`);
    }
  } else await mkdir(home, { recursive: true });
  const { nodes: _legacy, ...kept } = loaded.config;
  loaded.config = FederationConfig.parse({ ...kept, version: 2, machine: name, blackboard });
  await saveConfig(loaded);
  if (blackboard.driver === "directory" && !blackboard.coordinator)
    notes.push(
      "note: no --coordinator given, so this machine's worker does the coordinator's duties too; name the hub (clawos join … --coordinator HUB) so that only one machine does",
    );
  return { configPath: loaded.path, ...(keptAs ? { keptAs } : {}), notes };
}

function sameBlackboard(a: BlackboardConfig, b: BlackboardConfig): boolean {
  if (a.driver === "nats" && b.driver === "nats")
    return a.servers.join(",") === b.servers.join(",") && (a.domain ?? "") === (b.domain ?? "");
  if (a.driver === "directory" && b.driver === "directory") return (a.path ?? "") === (b.path ?? "");
  return false;
}

export function describeBlackboard(bb: BlackboardConfig): string {
  if (bb.driver === "nats") return `${bb.servers.join(", ")}${bb.domain ? ` (domain ${bb.domain})` : ""}`;
  return bb.path ?? "the default directory";
}

/** The blackboard the options name, once it answers: a clear error naming it otherwise. */
async function reachableBlackboard(env: NodeJS.ProcessEnv, options: JoinOptions): Promise<BlackboardConfig> {
  if (options.nats) {
    const { probeNats } = await import("../blackboard/nats/connection.js");
    const probe = await probeNats([options.nats], options.domain);
    if (!probe.ok)
      throw new UserError(
        `The NATS server at ${options.nats}${options.domain ? ` (JetStream domain ${options.domain})` : ""} does not answer: ${probe.error.split("\n")[0]}`,
        {
          hint: "start this machine's NATS server (a leaf node of the hub), or check the URL and --domain",
          code: "unreachable",
        },
      );
    return { driver: "nats", servers: [options.nats], ...(options.domain ? { domain: options.domain } : {}) };
  }
  const expanded = expandTilde(options.blackboard!, env);
  const dir = isAbsolute(expanded) ? expanded : resolve(expanded);
  const kind = await stat(dir).then(
    (s) => (s.isDirectory() ? "dir" : "other"),
    () => "missing",
  );
  if (kind !== "dir")
    throw new UserError(
      `No blackboard at ${displayPath(dir, env)}: ${kind === "missing" ? "there is no such folder" : "it is not a folder"}.`,
      {
        hint: "wait until the sync tool has brought the folder from the first machine (its clawos init printed the path), or check the path",
        code: "unreachable",
      },
    );
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UserError(`The blackboard at ${displayPath(dir, env)} cannot be written by this user.`, {
      hint: "check the folder's owner and mode",
      code: "unreachable",
    });
  }
  return {
    driver: "directory",
    path: dir,
    ...(options.coordinator ? { coordinator: options.coordinator } : {}),
  };
}

/** How this machine's worker was started. */
export interface WorkerStart {
  how: "background" | "service" | "not started";
  detail: string;
  pid?: number;
}

export interface WorkerLauncher {
  nodeBin: string;
  cliBin: string;
}

/**
 * Start this machine's worker in the background (detached, logging to <home>/logs/worker.log),
 * and wait until it says it started, or report why not. The seam join calls: a service-aware
 * ensure-a-worker replaces it where one exists.
 */
export let startWorker = async (
  home: string,
  env: NodeJS.ProcessEnv,
  launcher: WorkerLauncher,
): Promise<WorkerStart> => {
  const logs = join(home, "logs");
  await mkdir(logs, { recursive: true });
  const log = join(logs, "worker.log");
  const before = fileSize(log);
  const child = spawn(launcher.nodeBin, [launcher.cliBin, "node", "run"], {
    env: { ...env, CLAWOS_HOME: home },
    detached: true,
    stdio: ["ignore", "ignore", openSync(join(logs, "worker.err"), "a")],
  });
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  child.unref();
  for (let waited = 0; waited < 15_000; waited += 100) {
    const text = await readFile(log, "utf8").catch(() => "");
    const fresh = text.slice(before);
    if (/worker started on/.test(fresh))
      return {
        how: "background",
        detail: `in the background (pid ${child.pid}; log ${displayPath(log, env)})`,
        pid: child.pid!,
      };
    if (exited !== undefined) {
      const last = fresh.trim().split("\n").pop() ?? "";
      return {
        how: "not started",
        detail: `the worker stopped at once (exit ${exited})${last ? `: ${last.replace(/^\S+ \S+\s+/, "")}` : ""}; see ${displayPath(log, env)}`,
      };
    }
    await sleep(100);
  }
  return {
    how: "background",
    detail: `in the background (pid ${child.pid}), not started yet; see ${displayPath(log, env)}`,
    pid: child.pid!,
  };
};

/** Replace how join starts the worker (tests; a service-aware start). */
export function setWorkerStarter(starter: typeof startWorker): void {
  startWorker = starter;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
