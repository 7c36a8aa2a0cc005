import { closeSync, openSync, readFileSync, realpathSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describeError } from "../domain/errors.js";
import type { MachineWorker } from "../domain/federation-types.js";
import type { FederationConfig, NodeStatusRecord } from "../domain/schema.js";
import { FederationCore } from "../federation/federation.js";
import { childProcess } from "../infra/child-process.js";
import { loadConfig, thisMachine } from "../infra/config.js";
import { displayPath, resolveHome } from "../infra/paths.js";
import { sanitizeLine } from "../infra/sanitize.js";
import {
  isAlive,
  isWorkerProcess,
  readPidRecord,
  removePidRecord,
  serviceState,
  startService,
  withStartLock,
  workerLogPath,
  workerOutPath,
  writePidRecord,
} from "./worker-process.js";

export type { MachineWorker } from "../domain/federation-types.js";

/** What `ensureWorker` found or did; `message` is the one line to show the user, when there is one. */
export interface EnsureWorkerResult {
  /**
   * found: a worker already serves this machine; started: one was started now; disabled: none
   * runs and the automatic start is off; idle: no node of this machine has a gateway to serve;
   * failed: the start was tried and did not work (`message` says why).
   */
  action: "found" | "started" | "disabled" | "idle" | "failed";
  worker: MachineWorker;
  message?: string;
}

export interface WorkerLookup {
  /** An open core: its config, machine and the blackboard's heartbeats are used. */
  core?: FederationCore;
  /** Heartbeats already read (saves a read). */
  heartbeats?: readonly NodeStatusRecord[];
}

export interface EnsureWorkerOptions extends WorkerLookup {
  /** The program to start (default: this process's node and CLI entry). */
  nodeBin?: string;
  cliBin?: string;
  /** Longest wait for the started worker's first heartbeat (default 5 s). */
  readyMs?: number;
}

/** Off when federation.json says `"worker": {"autoStart": false}` or CLAWOS_WORKER_AUTOSTART is 0/false/off/no. */
export function autoStartEnabled(config: FederationConfig, env: NodeJS.ProcessEnv): boolean {
  const flag = env.CLAWOS_WORKER_AUTOSTART?.trim().toLowerCase();
  if (flag && ["0", "false", "off", "no"].includes(flag)) return false;
  return config.worker.autoStart;
}

async function configOf(home: string, lookup: WorkerLookup, env: NodeJS.ProcessEnv) {
  const config = lookup.core?.config ?? (await loadConfig(home)).config;
  return { config, machine: lookup.core?.machine ?? thisMachine(config, env) };
}

/**
 * Which worker serves this machine: the background one clawos started (its pid file, checked
 * to still be that process), the installed service, or a `clawos node run` started by hand
 * (a fresh heartbeat from a live process of this machine).
 */
export async function findWorker(
  home: string,
  env: NodeJS.ProcessEnv,
  lookup: WorkerLookup = {},
): Promise<MachineWorker> {
  // The pid file first: the common case, and no read of the blackboard.
  const record = await readPidRecord(home);
  if (record && isWorkerProcess(record.pid, home))
    return { running: true, kind: "background", pid: record.pid, since: record.startedAt };
  const { config, machine } = await configOf(home, lookup, env);
  const beats = await heartbeatsOf(lookup);
  const service = serviceState(home, env);
  const now = Date.now();
  const live = beats.filter(
    (b) =>
      b.machine === machine &&
      b.state !== "stopped" &&
      now - Date.parse(b.heartbeatAt) <= config.timing.staleAfterMs &&
      isAlive(b.pid),
  );
  const fresh = live[0];
  const from = fresh ? { pid: fresh.pid, since: fresh.startedAt } : {};
  if (service.active) return { running: true, kind: "service", ...from };
  // A worker started by hand for some nodes (`node run --node X`) does not serve the others.
  const served = new Set(live.map((b) => b.node));
  const unserved = (lookup.core?.nodes ?? [])
    .filter((n) => n.machine === machine && n.port !== null && !served.has(n.id))
    .map((n) => n.id);
  if (fresh && unserved.length === 0) return { running: true, kind: "manual", ...from };
  return {
    running: false,
    ...(service.installed ? { serviceInstalled: true } : {}),
    ...(fresh ? { unserved } : {}),
  };
}

async function heartbeatsOf(lookup: WorkerLookup): Promise<readonly NodeStatusRecord[]> {
  if (lookup.heartbeats) return lookup.heartbeats;
  if (!lookup.core) return [];
  return (await lookup.core.blackboard.readNodeStatuses().catch(() => ({ records: [] }))).records;
}

/**
 * Makes sure a worker serves this machine: if none does (see `findWorker`), starts the
 * installed service, or else a detached `clawos --home HOME node run` (the same node and
 * CLI entry as this process) with its pid in `<home>/run/worker.json` and its output in
 * `<home>/logs/`. A lock makes two commands at once start one. Never throws for a failed
 * start: the result says what happened, in one line for the user.
 */
export async function ensureWorker(
  home: string,
  env: NodeJS.ProcessEnv,
  options: EnsureWorkerOptions = {},
): Promise<EnsureWorkerResult> {
  const { config, machine } = await configOf(home, options, env);
  const found = await findWorker(home, env, options);
  if (found.running) return { action: "found", worker: found };
  if (!autoStartEnabled(config, env)) return { action: "disabled", worker: found };
  // The registry is on the blackboard: a command that did not open the federation opens it here.
  const nodes = options.core?.nodes ?? (await FederationCore.using(home, env, async (core) => core.nodes));
  if (!nodes.some((n) => n.machine === machine && n.port !== null)) return { action: "idle", worker: found };
  try {
    return await withStartLock(home, async () => {
      // Another command may have started one while this one waited for the lock.
      const again = await findWorker(home, env, { ...options, heartbeats: [] });
      if (again.running) return { action: "found", worker: again };
      if (found.serviceInstalled && startService(home, env))
        return {
          action: "started",
          worker: { running: true, kind: "service" },
          message: "Started this machine's worker service (it was installed but not running).",
        };
      return startBackground(home, env, options);
    });
  } catch (error) {
    // The command goes on without a worker (dispatch then runs the task itself): say why.
    return {
      action: "failed",
      worker: { running: false },
      message: `Could not start this machine's worker: ${describeError(error)}; start it yourself: clawos${homeFlag(home, env)} node run`,
    };
  }
}

async function startBackground(
  home: string,
  env: NodeJS.ProcessEnv,
  options: EnsureWorkerOptions,
): Promise<EnsureWorkerResult> {
  const nodeBin = options.nodeBin ?? process.execPath;
  const cliBin = options.cliBin ?? cliEntry();
  if (!cliBin)
    return {
      action: "failed",
      worker: { running: false },
      message: "Could not start this machine's worker (no CLI entry to run); start it: clawos node run",
    };
  await mkdir(join(home, "logs"), { recursive: true, mode: 0o700 });
  const out = openSync(workerOutPath(home), "a", 0o600);
  const startedAt = new Date().toISOString();
  let child: import("node:child_process").ChildProcess;
  try {
    // --quiet: its lines go to its rotated log only; worker.out keeps what comes before it is open.
    child = childProcess().spawn(nodeBin, [cliBin, "--home", home, "node", "run", "--quiet"], {
      detached: true,
      stdio: ["ignore", out, out],
      env,
    });
  } finally {
    closeSync(out);
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code ?? -1));
    child.once("error", () => resolve(-1));
  });
  const pid = child.pid;
  child.unref();
  if (!pid) return failedStart(home, await exited);
  await writePidRecord(home, { pid, startedAt, home });
  const ready = await Promise.race([exited, firstHeartbeat(options, pid, options.readyMs ?? 5_000)]);
  if (ready !== "ready" && ready !== "slow") {
    removePidRecord(home, pid);
    return failedStart(home, ready);
  }
  const worker: MachineWorker = { running: true, kind: "background", pid, since: startedAt };
  return { action: "started", worker, message: startedMessage(home, env, pid) };
}

/** Resolves "ready" when the worker `pid` has written a heartbeat, "slow" after `ms`. */
async function firstHeartbeat(lookup: WorkerLookup, pid: number, ms: number): Promise<"ready" | "slow"> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await sleep(100);
    if (!lookup.core) continue; // no board to read: only an early exit can be seen
    const { records } = await lookup.core.blackboard.readNodeStatuses().catch(() => ({ records: [] }));
    if (records.some((r) => r.pid === pid && r.state === "running")) return "ready";
  }
  return "slow";
}

function failedStart(home: string, code: number | null): EnsureWorkerResult {
  const last = lastLine(workerOutPath(home));
  return {
    action: "failed",
    worker: { running: false },
    message: `This machine's worker stopped as it started (exit ${code})${last ? `: ${last}` : ""}; see ${workerOutPath(home)}, or start it yourself: clawos node run`,
  };
}

function lastLine(path: string): string {
  try {
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    return sanitizeLine(lines.at(-1) ?? "").slice(0, 300);
  } catch {
    return "";
  }
}

/** The CLI file this process runs (the real file behind an npx link, which a cache clean removes). */
function cliEntry(): string | undefined {
  const started = process.argv[1];
  if (!started) return undefined;
  try {
    return realpathSync(started);
  } catch {
    return started;
  }
}

/** ` --home DIR` when the commands the user types next need it to reach this home. */
export function homeFlag(home: string, env: NodeJS.ProcessEnv): string {
  return resolveHome(undefined, env) === home ? "" : ` --home ${displayPath(home, env)}`;
}

function startedMessage(home: string, env: NodeJS.ProcessEnv, pid: number): string {
  const flag = homeFlag(home, env);
  return `Started this machine's worker in the background (pid ${pid}, log ${displayPath(workerLogPath(home), env)}); stop it with clawos${flag} node stop-worker, or keep one running as a service: clawos${flag} node install-service`;
}

const AUTO_START_AGAIN =
  'Commands that queue work start it again; to keep it off, set "worker": {"autoStart": false} in federation.json.';

export interface StopWorkerResult {
  /** stopped: the background worker was stopped; none: nothing was running; elsewhere: not ours to stop. */
  action: "stopped" | "still-running" | "none" | "elsewhere";
  worker: MachineWorker;
  /** The background worker's pid, when it was stopped or is still stopping. */
  pid?: number;
  message: string;
}

/**
 * Stops the background worker by its pid file: SIGTERM (it hands its running tasks back, as
 * on any SIGTERM), then waits up to `waitMs` for it to exit. A service or a worker started by
 * hand is not stopped: the message says how.
 */
export async function stopWorker(
  home: string,
  env: NodeJS.ProcessEnv,
  options: WorkerLookup & { waitMs?: number } = {},
): Promise<StopWorkerResult> {
  const record = await readPidRecord(home);
  if (record && isWorkerProcess(record.pid, home)) {
    const worker: MachineWorker = {
      running: true,
      kind: "background",
      pid: record.pid,
      since: record.startedAt,
    };
    process.kill(record.pid, "SIGTERM");
    const deadline = Date.now() + (options.waitMs ?? 20_000);
    while (isWorkerProcess(record.pid, home) && Date.now() < deadline) await sleep(100);
    if (isWorkerProcess(record.pid, home))
      return {
        action: "still-running",
        worker,
        pid: record.pid,
        message: `Asked the background worker (pid ${record.pid}) to stop; it is still finishing its tasks (kill ${record.pid} again to hand them back now).`,
      };
    removePidRecord(home, record.pid);
    return {
      action: "stopped",
      worker: { running: false },
      pid: record.pid,
      message: `Stopped this machine's background worker (pid ${record.pid}); any task it was running went back to its inbox. ${AUTO_START_AGAIN}`,
    };
  }
  if (record) removePidRecord(home, record.pid); // its process is gone (or is another program now)
  const found = await findWorker(home, env, options);
  if (found.kind === "service")
    return {
      action: "elsewhere",
      worker: found,
      message: `This machine's worker runs as a service: stop it with ${serviceState(home, env).stopCommand} (or remove it: clawos node install-service --uninstall).`,
    };
  if (found.kind === "manual")
    return {
      action: "elsewhere",
      worker: found,
      message: `This machine's worker was started by hand (clawos node run, pid ${found.pid}): stop it with Ctrl+C where it runs, or kill ${found.pid}.`,
    };
  return {
    action: "none",
    worker: found,
    message: "No background worker runs for this home; nothing to stop.",
  };
}
