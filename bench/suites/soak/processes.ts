/**
 * The processes a soak runs: one-off CLI commands on the hub, and the long-running gateways,
 * workers and coordinator, each restartable, with its log counted and its memory sampled.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { BIN, STUB_MAIN } from "../../lib.js";
import { elapsedS } from "./plan.js";

/** The CLI and the stub gateway the soak runs: a private copy of dist/ unless --no-snapshot. */
export const programs = { bin: BIN, stubMain: STUB_MAIN };

/** A one-off CLI command on the hub; resolves with its output (never rejects on a non-zero exit). */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [programs.bin, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    oneOffs.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      stderr += `\n(soak: killed after ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      oneOffs.delete(child);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
export const oneOffs = new Set<ChildProcess>();

// ── long-running processes ───────────────────────────────────────────────────

export interface Crash {
  name: string;
  atS: number;
  code: number | null;
  signal: string | null;
  tail: string[];
}

/** Log lines worth counting; anything else a worker says is collected as "other". */
const LOG_PATTERNS: [string, RegExp][] = [
  ["claimed", /: claimed req_/],
  ["completed", /: req_\S+ completed$/],
  ["failed", /: req_\S+ failed: /],
  ["cancelled", /: req_\S+ cancelled$/],
  ["attemptFailed", /: req_\S+ attempt failed /],
  ["leaseLostZombie", /lost its lease/],
  ["outcomeNotRecorded", /outcome not recorded/],
  ["leaseReaped", /coordinator: lease of \S+ on \S+ expired/],
  ["quarantined", /coordinator: quarantined /],
  ["rerouted", /coordinator: re-routed /],
  ["recovered", /coordinator: req_\S+: (finished an interrupted|republished)/],
  ["gatewayDown", /: gateway down: /],
  ["gatewayBack", /: gateway is back$/],
  ["heartbeatNotWritten", /heartbeat for \S+ not written/],
  ["started", /worker started on /],
  ["stopping", /^stopping: waiting/],
  ["stopped", /^worker stopped$/],
];

export class Managed {
  child?: ChildProcess;
  starts = 0;
  kills = 0;
  /** True while chaos (or the end of the soak) holds it down: its exit is expected. */
  held = false;
  /** Busy with a kill/restart: chaos leaves it alone. */
  busy = false;
  crashes: Crash[] = [];
  counters: Record<string, number> = {};
  other = new Map<string, number>();
  peakRssKiB = 0;
  lastExit?: { code: number | null; signal: string | null };
  /** The line that said it was ready (a gateway's `{"port":N}`). */
  readyLine = "";
  private tail: string[] = [];
  private partial = "";
  private readonly log: WriteStream;
  private onReady?: (line: string) => void;

  constructor(
    readonly name: string,
    readonly role: "gateway" | "worker" | "coordinator",
    private readonly argv: () => string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly ready: RegExp,
    logPath: string,
    private readonly onCrash: (m: Managed, crash: Crash) => void,
  ) {
    this.log = createWriteStream(logPath, { flags: "a" });
  }

  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null
      ? this.child.pid
      : undefined;
  }

  /** Start and wait until it says it is ready; retries a few times (a port still held, say). */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (error) {
        this.log.write(`[soak] start ${attempt} failed: ${String(error)}\n`);
        if (attempt >= 5) throw new Error(`${this.name} would not start: ${String(error)}`);
        await sleep(1000);
      }
    }
  }

  private startOnce(): Promise<void> {
    this.held = false;
    this.starts++;
    this.log.write(`[soak ${elapsedS()} s] start #${this.starts}\n`);
    const child = spawn(process.execPath, this.argv(), { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    const onData = (d: Buffer) => this.take(d.toString("utf8"));
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onReady = undefined;
        this.held = true;
        child.kill("SIGKILL");
        reject(new Error("not ready within 30 s"));
      }, 30_000);
      this.onReady = (line) => {
        if (!this.ready.test(line)) return;
        this.readyLine = line;
        clearTimeout(timer);
        this.onReady = undefined;
        resolve();
      };
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        this.lastExit = { code, signal };
        this.log.write(`[soak ${elapsedS()} s] exit code ${code} signal ${signal}\n`);
        if (this.onReady) {
          this.onReady = undefined;
          reject(new Error(`exited (${code ?? signal}) before it was ready`));
          return;
        }
        if (!this.held && child === this.child) {
          const crash = { name: this.name, atS: elapsedS(), code, signal, tail: this.tail.slice(-25) };
          this.crashes.push(crash);
          this.onCrash(this, crash);
        }
      });
    });
  }

  private take(data: string): void {
    this.log.write(data);
    const lines = (this.partial + data).split("\n");
    this.partial = lines.pop() ?? "";
    for (const raw of lines) {
      // "<ISO time> [level] message": keep the message.
      const line = raw.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z (?:(?:error|warn|info|debug)\s+)?/, "");
      this.tail.push(line);
      if (this.tail.length > 200) this.tail.splice(0, 100);
      this.onReady?.(line);
      const hit = LOG_PATTERNS.find(([, re]) => re.test(line));
      if (hit) this.counters[hit[0]] = (this.counters[hit[0]] ?? 0) + 1;
      else if (this.role !== "gateway" && line.trim()) {
        const key = line
          .replace(/req_[A-Za-z0-9_-]+/g, "<id>")
          .replace(/\d+/g, "N")
          .slice(0, 160);
        this.other.set(key, (this.other.get(key) ?? 0) + 1);
      }
    }
  }

  /** Send a signal and wait for the exit; the exit is expected. */
  async stop(
    signal: NodeJS.Signals,
    killAfterMs = 15_000,
  ): Promise<{ code: number | null; signal: string | null; hung: boolean }> {
    this.held = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null)
      return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null, hung: false };
    let hung = false;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, killAfterMs);
    await exited;
    clearTimeout(timer);
    return { code: child.exitCode, signal: child.signalCode, hung };
  }

  sampleRss(): void {
    const pid = this.pid;
    if (pid) this.peakRssKiB = Math.max(this.peakRssKiB, rssKiB(pid));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.log.end(() => resolve()));
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5) (utime, stime), counted after the ") " that ends the name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of a process, from /proc (a tiny file; read every few seconds). */
export function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
