/**
 * Shared pieces of the benchmarks: statistics, machine facts, throwaway federation
 * homes, the stub gateway as a child process, and result printing.
 *
 * Every benchmark prints a human table and, last, one line `RESULT {json}` that
 * bench/run-all.ts collects.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir, totalmem } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import type { Claim } from "../source/core/blackboard/types.js";
import type { TaskResult } from "../source/core/domain/schema.js";
import { runProcess } from "../test/testkit/process.js";

/** dist/clawos/bin.js — the real `clawos` CLI (the bundle). */
export const BIN = fileURLToPath(new URL("../clawos/bin.js", import.meta.url));
/** dist/test/support/stub-gateway-main.js — a stand-in OpenClaw gateway process. */
export const STUB_MAIN = fileURLToPath(new URL("../test/testkit/stub-gateway-main.js", import.meta.url));
/** What a benchmark's stand-in worker reports for a claim: completed at once, with `text`. */
export function completedResult(claim: Claim, text = "ok"): TaskResult {
  const now = new Date().toISOString();
  return {
    schema: "clawos.result/1",
    id: claim.request.id,
    attempt: claim.request.attempt,
    node: claim.node,
    status: "completed",
    text,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
  };
}

/**
 * A compiled benchmark script by its path under dist/bench/ without the extension,
 * e.g. "children/pickup-child" or "suites/route-overhead".
 */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

// ── command line ─────────────────────────────────────────────────────────────

/**
 * A benchmark's flags (strict: an unknown flag is an error). `negatable` lets --no-X turn a
 * boolean X off; it is opt-in because some scripts have flags that are spelled --no-X.
 */
export function benchArgs<const O extends ParseArgsOptionsConfig>(options: O, negatable = false) {
  return parseArgs({ options, allowNegative: negatable }).values;
}

/** Flags and the files or directories named after them. */
export function benchArgsAndPaths<const O extends ParseArgsOptionsConfig>(options: O) {
  return parseArgs({ options, allowPositionals: true });
}

// ── statistics ───────────────────────────────────────────────────────────────

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: round(sorted[0] ?? Number.NaN),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    mean: round(sorted.length ? sum / sorted.length : Number.NaN),
  };
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds from the system-wide monotonic clock (CLOCK_MONOTONIC): comparable across processes. */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ── machine facts ────────────────────────────────────────────────────────────

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  tmpdir: string;
  tmpFilesystem: string;
  kernel: string;
  loadavgAtStart: number[];
}

export function machineInfo(): MachineInfo {
  let cpu = "unknown";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  let tmpFilesystem = "unknown";
  try {
    const df = execFileSync("df", ["-T", tmpdir()], { encoding: "utf8" }).trim().split("\n");
    tmpFilesystem = df[1]?.split(/\s+/)[1] ?? tmpFilesystem;
  } catch {
    // no df
  }
  let kernel = "unknown";
  try {
    kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    cpu,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    tmpdir: tmpdir(),
    tmpFilesystem,
    kernel,
    loadavgAtStart: loadavg().map((l) => round(l, 2)),
  };
}

/** Fraction of all CPUs busy over `ms` (from /proc/stat; NaN where there is none). */
export async function cpuBusy(ms = 3_000): Promise<number> {
  const read = () => {
    try {
      const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
      const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
      return { idle, total: cpu.reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const a = read();
  await sleep(ms);
  const b = read();
  if (!a || !b || b.total === a.total) return Number.NaN;
  return round(1 - (b.idle - a.idle) / (b.total - a.total), 2);
}

// ── throwaway federation homes ───────────────────────────────────────────────

export interface BenchHome {
  /** The fake $HOME (profiles live in HOME/.openclaw[-name]/). */
  home: string;
  /** HOME/.openclaw/clawos — the federation home FederationCore.open takes. */
  clawosHome: string;
  /** The directory blackboard. */
  blackboard: string;
  /** Environment for the hub machine (CLAWOS_MACHINE=hub). */
  env: NodeJS.ProcessEnv;
  writeProfile(profile: string | null, port: number, token: string): Promise<void>;
  writeFederation(config: Record<string, unknown>): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeHome(prefix = "clawos-bench-"): Promise<BenchHome> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  const clawosHome = join(home, ".openclaw", "clawos");
  const blackboard = join(clawosHome, "clawos-blackboard", "federation");
  await mkdir(clawosHome, { recursive: true });
  return {
    home,
    clawosHome,
    blackboard,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      CLAWOS_MACHINE: "hub",
      NO_COLOR: "1",
      CLAWOS_WORKER_AUTOSTART: "0",
    },
    async writeProfile(profile, port, token) {
      const dir = join(home, profile ? `.openclaw-${profile}` : ".openclaw");
      await mkdir(dir, { recursive: true });
      // The layout `openclaw onboard` writes (JSON5), as in test/support/cli-harness.ts.
      await writeFile(
        join(dir, "openclaw.json"),
        `{
  gateway: {
    mode: "local",
    port: ${port},
    bind: "loopback",
    auth: { mode: "token", token: "${token}" },
    http: { endpoints: { chatCompletions: { enabled: true } } },
  },
}
`,
      );
    },
    async writeFederation(config) {
      await writeFile(join(clawosHome, "federation.json"), `${JSON.stringify(config, null, 2)}\n`);
    },
    async cleanup() {
      await rm(home, { recursive: true, force: true });
    },
  };
}

/**
 * The federation the status and first-frame benchmarks show: two local gateways (profiles
 * with the tokens "main-secret" and "alpha-secret"), a remote node and a planned one.
 */
export async function writeFourNodeFederation(
  home: BenchHome,
  mainPort: number,
  alphaPort: number,
): Promise<void> {
  await home.writeProfile(null, mainPort, "main-secret");
  await home.writeProfile("alpha", alphaPort, "alpha-secret");
  await home.writeFederation({
    version: 1,
    machine: "hub",
    blackboard: { driver: "directory", coordinator: "hub" },
    nodes: [
      { id: "main", machine: "hub", port: mainPort, profile: null, token: { profile: true } },
      { id: "alpha", machine: "hub", port: alphaPort, profile: "alpha", token: { profile: true } },
      { id: "macbook-air", machine: "macbook-air", port: 18789, token: { env: "MBA_TOKEN" } },
      { id: "cloud-node", machine: "cloud", port: null, notes: "planned: port TBD" },
    ],
  });
}

// ── child processes ──────────────────────────────────────────────────────────

const children = new Set<ChildProcess>();

/** Kill every child this process started (only those, by their own handle). */
export function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
}

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

export interface StubProcess {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `node dist/test/support/stub-gateway-main.js --port 0 --token T`, waiting for its `{"port":N}` line. */
export async function spawnStub(options: {
  token: string;
  reply?: string;
  chunkDelayMs?: number;
}): Promise<StubProcess> {
  const args = [STUB_MAIN, "--port", "0", "--token", options.token];
  if (options.reply !== undefined) args.push("--reply", options.reply);
  if (options.chunkDelayMs !== undefined) args.push("--chunk-delay-ms", String(options.chunkDelayMs));
  const child = track(spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] }));
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error("stub gateway did not start within 10 s")), 10_000);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buffer += d;
      const m = /\{"port":(\d+)\}/.exec(buffer);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`stub gateway exited with ${code}`));
    });
  });
  return {
    port,
    child,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Run a child to completion, timing it with the monotonic clock. */
export async function timeProcess(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  const run = asUserRuns(args, options.env);
  const { ms, code, stdout, stderr } = await runProcess(run.command, run.args, {
    ...options,
    env: run.env,
    started: track,
  });
  return { ms, code, stdout, stderr };
}

/**
 * `node …args` as it is started: when `args` run the CLI (BIN), the bundle itself as a user
 * runs `clawos` (its shebang picks `node` from PATH, this Node first), Node flags given before
 * BIN going in NODE_OPTIONS; anything else with this Node.
 */
export function asUserRuns(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const at = args.indexOf(BIN);
  if (at < 0) return { command: process.execPath, args: [...args], env };
  const flags = [env.NODE_OPTIONS, ...args.slice(0, at)].filter(Boolean).join(" ");
  return {
    command: BIN,
    args: args.slice(at + 1),
    env: {
      ...env,
      PATH: [dirname(process.execPath), env.PATH].filter(Boolean).join(delimiter),
      ...(flags ? { NODE_OPTIONS: flags } : {}),
    },
  };
}

/** Make sure children die with us (Ctrl-C, an exception) — only the ones we started. */
export function installCleanup(cleanup: () => Promise<void>): void {
  let done = false;
  const run = async (code: number) => {
    if (done) return;
    done = true;
    killChildren();
    await cleanup().catch(() => {});
    process.exit(code);
  };
  process.once("SIGINT", () => void run(130));
  process.once("SIGTERM", () => void run(143));
  process.once("uncaughtException", (error) => {
    console.error(error);
    void run(1);
  });
  process.once("unhandledRejection", (error) => {
    console.error(error);
    void run(1);
  });
}

// ── output ───────────────────────────────────────────────────────────────────

export function table(rows: (string | number)[][]): string {
  const text = rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
  const widths = text[0]!.map((_, i) => Math.max(...text.map((r) => (r[i] ?? "").length)));
  return text
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
      return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(Math.abs(n) >= 100 ? 1 : 2);
}

export function summaryRow(label: string, s: Summary): (string | number)[] {
  return [label, s.n, s.p50, s.p95, s.p99, s.min, s.max, s.mean];
}
export const SUMMARY_HEADER = ["", "n", "p50 ms", "p95 ms", "p99 ms", "min", "max", "mean"];

/** The last line of every benchmark: what run-all.ts collects. */
export function emitResult(result: Record<string, unknown>): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

export function verdict(ok: boolean): string {
  return ok ? "MET" : "MISSED";
}

/** Diagnosis only: make FileHandle.sync a no-op in this process, to show what the fsyncs cost. */
export async function disableFsync(): Promise<void> {
  // The blackboard flushes with fs.fdatasync and fs.fsync (callback form); builtin named
  // imports follow the module object after a sync.
  const fs = await import("node:fs");
  const { syncBuiltinESMExports } = await import("node:module");
  const skip = (_fd: number, cb: (e: null) => void) => cb(null);
  const mutable = fs.default as unknown as Record<"fdatasync" | "fsync", typeof skip>;
  mutable.fdatasync = skip;
  mutable.fsync = skip;
  syncBuiltinESMExports();
}
