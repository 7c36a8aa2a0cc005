/**
 * The processes the serve soak runs: one-off CLI commands on the hub and the long-running gateways,
 * workers, coordinator and server, all as the soak's user, with their exits recorded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { chown, readdir } from "node:fs/promises";
import { join } from "node:path";
import { BIN, round, STUB_MAIN } from "../../lib.js";
import { elapsedS, say } from "./plan.js";
import type { Owner } from "./plants.js";

export interface Proc {
  name: string;
  child?: ChildProcess;
  exits: { atS: number; code: number | null; signal: string | null; tail: string }[];
  tail: string;
  expected: boolean;
  /** Starts (or restarts) it. */
  start?: () => Promise<string>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Procs {
  /** Every long-running process made by `proc`, in order. */
  all: Proc[];
  /** A one-off CLI command; never rejects on a non-zero exit, killed after `timeoutMs`. */
  cli(args: string[], timeoutMs?: number): Promise<CliResult>;
  /** A named long-running process, not started yet. */
  proc(name: string): Proc;
  /** Start (or restart) `p`; resolves with the match of `ready`, a line it prints once up. */
  startProc(p: Proc, args: string[], ready: RegExp, extraEnv?: NodeJS.ProcessEnv): Promise<string>;
  /** SIGTERM, then SIGKILL after 15 s; its exit is not counted. */
  stopProc(p: Proc): Promise<void>;
}

/** The soak's processes, run with `env` and as `owner` (the stub gateways as root: they are not clawos). */
export function makeProcs(env: NodeJS.ProcessEnv, owner: Owner | undefined): Procs {
  const all: Proc[] = [];
  const spawnAs = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    spawn(process.execPath, args, {
      env: { ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
  const cli = (args: string[], timeoutMs = 60_000) =>
    new Promise<CliResult>((resolve) => {
      const child = spawnAs([BIN, ...args]);
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => {
        stdout += d;
      });
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d;
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  const startProc = (p: Proc, args: string[], ready: RegExp, extraEnv: NodeJS.ProcessEnv = {}) =>
    new Promise<string>((resolve, reject) => {
      const child =
        args[0] === STUB_MAIN
          ? spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
          : spawnAs(args, extraEnv);
      p.child = child;
      p.expected = false;
      const timer = setTimeout(
        () => reject(new Error(`${p.name} not ready in 60 s: ${p.tail.slice(-300)}`)),
        60_000,
      );
      const take = (d: Buffer) => {
        p.tail = (p.tail + d.toString()).slice(-4000);
        const m = ready.exec(p.tail);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      child.stdout!.on("data", take);
      child.stderr!.on("data", take);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (!p.expected) {
          p.exits.push({ atS: elapsedS(), code, signal, tail: p.tail.slice(-1500) });
          say(`!! ${p.name} exited (code ${code}, signal ${signal})`);
        }
        reject(new Error(`${p.name} exited: ${p.tail.trim().split("\n").slice(-3).join(" | ")}`));
      });
    });
  const proc = (name: string): Proc => {
    const p: Proc = { name, exits: [], tail: "", expected: false };
    all.push(p);
    return p;
  };
  const stopProc = async (p: Proc) => {
    p.expected = true;
    const child = p.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return { all, cli, proc, startProc, stopProc };
}

/** SIGKILL every process still running. */
export function killAll(procs: Procs): void {
  for (const p of procs.all)
    if (p.child && p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
}

/** chown -R, without following links (the tree holds none yet). */
export async function chownTree(path: string, owner: Owner): Promise<void> {
  await chown(path, owner.uid, owner.gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, owner);
    else if (!entry.isSymbolicLink()) await chown(child, owner.uid, owner.gid);
  }
}

/** A process's resident memory and open descriptors; undefined once it is gone. */
export function procStatus(pid: number): { rssMiB: number; fds: number } | undefined {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    return { rssMiB: round(rss / 1024, 1), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}
