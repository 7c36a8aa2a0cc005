import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isErrnoException } from "../domain/errors.js";
import { writeFileAtomic } from "../infra/atomic-file.js";
import { childProcess } from "../infra/child-process.js";
import { serviceFile } from "./worker-service.js";

/** What the starter of a background worker writes beside it, so any later command can find it. */
export interface WorkerPidRecord {
  pid: number;
  startedAt: string;
  home: string;
}

export const workerPidPath = (home: string) => join(home, "run", "worker.json");
export const workerLogPath = (home: string) => join(home, "logs", "worker.log");
/** Its stdout and stderr: what it said before its own log was open (a bad config, a crash). */
export const workerOutPath = (home: string) => join(home, "logs", "worker.out");
const lockPath = (home: string) => join(home, "run", "worker-start.lock");

/** A start lock older than this was left by a process that died while starting a worker. */
const STALE_LOCK_MS = 30_000;

export async function readPidRecord(home: string): Promise<WorkerPidRecord | undefined> {
  try {
    const data = JSON.parse(await readFile(workerPidPath(home), "utf8")) as Partial<WorkerPidRecord>;
    if (!Number.isInteger(data.pid) || (data.pid as number) <= 1 || typeof data.startedAt !== "string")
      return undefined;
    return { pid: data.pid as number, startedAt: data.startedAt, home: String(data.home ?? home) };
  } catch {
    return undefined;
  }
}

export async function writePidRecord(home: string, record: WorkerPidRecord): Promise<void> {
  await mkdir(join(home, "run"), { recursive: true, mode: 0o700 });
  await writeFileAtomic(workerPidPath(home), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

export function removePidRecord(home: string, pid: number): void {
  // Only the record of this pid: a newer worker's record stays.
  try {
    const data = JSON.parse(readFileSync(workerPidPath(home), "utf8")) as { pid?: number };
    if (data.pid === pid) unlinkSync(workerPidPath(home));
  } catch {
    // gone already
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrnoException(error, "EPERM");
  }
}

/** The process's arguments, or undefined when it is gone (or a zombie, whose arguments are empty). */
function argumentsOf(pid: number): string[] | undefined {
  if (process.platform === "linux") {
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return raw ? raw.split("\0").filter((a) => a !== "") : undefined;
    } catch {
      return undefined;
    }
  }
  const ps = childProcess().spawnSync("ps", ["-o", "command=", "-p", String(pid)], {
    encoding: "utf8",
    timeout: 5_000,
  });
  const line = ps.status === 0 ? ps.stdout.trim() : "";
  return line ? line.split(/\s+/) : undefined;
}

/**
 * Whether `pid` is a `clawos … node run` of this home. A pid file outlives its process, and
 * the number may since belong to anything: its arguments say whether it is still our worker.
 */
export function isWorkerProcess(pid: number, home: string): boolean {
  if (!isAlive(pid)) return false;
  const args = argumentsOf(pid);
  if (!args) return false;
  const run = args.findIndex((a, i) => a === "node" && args[i + 1] === "run");
  const homeAt = args.indexOf("--home");
  return run > 0 && homeAt > 0 && args[homeAt + 1] === home;
}

/**
 * Runs `fn` while holding this home's start lock, so two commands at once start one worker.
 * A lock whose holder died (or that is older than STALE_LOCK_MS) is taken over.
 */
export async function withStartLock<T>(home: string, fn: () => Promise<T>, waitMs = 20_000): Promise<T> {
  const path = lockPath(home);
  await mkdir(join(home, "run"), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if (!isErrnoException(error, "EEXIST")) throw error;
      if (staleLock(path) || Date.now() > deadline) {
        try {
          unlinkSync(path);
        } catch {
          // another waiter removed it first
        }
        continue;
      }
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // removed as stale by another process: nothing to give back
    }
  }
}

function staleLock(path: string): boolean {
  try {
    const holder = Number(readFileSync(path, "utf8").trim());
    if (holder && !isAlive(holder)) return true;
    return Date.now() - statSync(path).mtimeMs > STALE_LOCK_MS;
  } catch {
    return false; // gone, or being written: try again
  }
}

/** The installed systemd unit or launchd agent for this home, and whether it runs. */
export interface ServiceState {
  installed: boolean;
  active: boolean;
  /** The command that stops it. */
  stopCommand: string;
}

const SYSTEMD_UNIT = "clawos-worker.service";
const LAUNCHD_LABEL = "ai.clawos.worker";

function serviceFilePath(home: string, env: NodeJS.ProcessEnv): string {
  return serviceFile({ platform: process.platform, home, nodeBin: "", cliBin: "", nodes: [], env }).path;
}

export function serviceState(home: string, env: NodeJS.ProcessEnv): ServiceState {
  const path = serviceFilePath(home, env);
  const stopCommand =
    process.platform === "darwin" ? `launchctl unload -w ${path}` : `systemctl --user stop ${SYSTEMD_UNIT}`;
  let content = "";
  try {
    content = readFileSync(path, "utf8");
  } catch {
    return { installed: false, active: false, stopCommand };
  }
  // A unit for another federation home does not serve this one.
  if (!content.includes(home)) return { installed: false, active: false, stopCommand };
  const check =
    process.platform === "darwin"
      ? childProcess().spawnSync("launchctl", ["list", LAUNCHD_LABEL], { encoding: "utf8", timeout: 5_000 })
      : childProcess().spawnSync("systemctl", ["--user", "is-active", "--quiet", SYSTEMD_UNIT], {
          timeout: 5_000,
        });
  const active =
    check.status === 0 && (process.platform !== "darwin" || /"PID"\s*=\s*\d+/.test(String(check.stdout)));
  return { installed: true, active, stopCommand };
}

/** Asks the service manager to start the installed service; true when it then runs. */
export function startService(home: string, env: NodeJS.ProcessEnv): boolean {
  const path = serviceFilePath(home, env);
  const started =
    process.platform === "darwin"
      ? childProcess().spawnSync("launchctl", ["load", "-w", path], { timeout: 20_000 })
      : childProcess().spawnSync("systemctl", ["--user", "start", SYSTEMD_UNIT], { timeout: 20_000 });
  return started.status === 0 && serviceState(home, env).active;
}
