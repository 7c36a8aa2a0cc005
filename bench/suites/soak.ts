/**
 * Soak (issue 7): a small federation under steady load and chaos for a while, then a
 * count of every task from the blackboard itself. Lost and duplicated must be 0.
 *
 *   node dist/bench/suites/soak.js [--duration 10m] [--fs auto|ext4|tmpfs|none] [--fs-size-mb 128]
 *     [--seed N] [--dispatchers 2] [--settle 5m] [--chunk-delay-ms 150] [--disk-full-hold 20s]
 *     [--tui-heap-mb N] [--out report.json] [--keep] [--no-snapshot]
 *   (SOAK_DURATION, SOAK_FS and SOAK_SEED set the same defaults from the environment.)
 *   Run it with Node 24 (node_modules/.bin/node) as root; results: bench/RESULTS-soak.md.
 *   The CLI runs from a copy of dist/ taken at the start (others may rebuild dist/ meanwhile);
 *   --keep keeps the work directory and its process logs; a failed run copies the logs
 *   next to --out.
 *
 * What runs, all real processes on 127.0.0.1:
 *   - 3 stub OpenClaw gateways (test/testkit/stub-gateway-main), one per "remote" node;
 *   - 3 workers, `clawos node run --node wN --no-coordinator`, each with CLAWOS_MACHINE=boxN;
 *   - the hub coordinator, `clawos node run --coordinator` (CLAWOS_MACHINE=hub);
 *   - the TUI, `clawos tui`, in a real pty for the whole run;
 *   - dispatchers: `clawos dispatch TEXT --to wN|any --priority P0..P3 --json`, one after another.
 * Chaos meanwhile: SIGKILL of a worker (sometimes the coordinator), restarted after a pause;
 * a gateway SIGKILLed and started again on the same port; a malformed file dropped into an
 * inbox; and the blackboard's filesystem filled to the last block for ~20 s.
 *
 * The blackboard lives on a small filesystem of its own so that "disk full" is a real
 * ENOSPC: a loop-mounted ext4 image (default), or a tmpfs. This needs root (mount); with
 * --fs none, or when mounting is refused, the disk-full episodes are skipped and the
 * report says so.
 *
 * At the end: stop dispatching and chaos, let the workers drain everything, check the TUI
 * still answers a key, stop every process with SIGTERM (they must exit cleanly), then
 * audit the blackboard (bench/suites/soak/audit.ts). Exit 1 if anything was lost or duplicated,
 * a process crashed, or the TUI stopped answering.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import {
  cp,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  statfs,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { type PtySession, spawnInPty } from "../../test/testkit/pty-harness.js";
import { BIN, machineInfo, round, STUB_MAIN, summarize, table } from "../lib.js";
import { type Audit, auditBlackboard, type DispatchedTask, type ListedTask } from "./soak/audit.js";

const run = promisify(execFile);

// ── options ──────────────────────────────────────────────────────────────────

const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: process.env.SOAK_DURATION ?? "10m" },
    fs: { type: "string", default: process.env.SOAK_FS ?? "auto" },
    "fs-size-mb": { type: "string", default: "128" },
    seed: { type: "string", default: process.env.SOAK_SEED ?? String(Date.now() % 1_000_000) },
    dispatchers: { type: "string", default: "2" },
    settle: { type: "string", default: "5m" },
    "chunk-delay-ms": { type: "string", default: "150" },
    "disk-full-hold": { type: "string", default: "20s" },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
    "no-snapshot": { type: "boolean", default: false },
    /** Cap the TUI's V8 old space (MiB): tells a leak (it dies) from lazy GC (it stays small). */
    "tui-heap-mb": { type: "string" },
  },
});

/** "10m", "90s", "1500ms"; a bare number is seconds. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`cannot read the duration "${text}" (use 10m, 90s or 1500ms)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"]!;
  return Math.round(Number(m[1]) * unit);
}

const DURATION_MS = parseDuration(opts.duration);
const SETTLE_MS = parseDuration(opts.settle);
const HOLD_MS = parseDuration(opts["disk-full-hold"]);
const FS_KIND = opts.fs;
const FS_SIZE_MB = Number(opts["fs-size-mb"]);
const SEED = Number(opts.seed);
const DISPATCHERS = Number(opts.dispatchers);
const CHUNK_DELAY_MS = Number(opts["chunk-delay-ms"]);
if (!["auto", "ext4", "tmpfs", "none"].includes(FS_KIND)) throw new Error(`--fs ${FS_KIND}?`);

/** How often each kind of chaos strikes (uniform in [min, max] ms). */
const CHAOS = {
  workerKillEvery: [15_000, 35_000],
  /** A killed worker comes back after this long. */
  workerDownFor: [2_000, 8_000],
  /** Share of kills that hit the hub coordinator instead of a node's worker. */
  coordinatorShare: 0.2,
  gatewayRestartEvery: [25_000, 50_000],
  gatewayDownFor: [1_000, 5_000],
  malformedEvery: [10_000, 25_000],
  /** First disk-full episode, then one every diskFullEvery. */
  diskFullFirst: Math.min(60_000, Math.round(DURATION_MS * 0.3)),
  diskFullEvery: 150_000,
  dispatchPause: [200, 900],
} as const;

/** Leases and heartbeats short enough that recovery happens within the soak, long enough for a busy 2-core box. */
const TIMING = {
  leaseMs: 4000,
  heartbeatMs: 1000,
  rescanMs: 1000,
  requestTimeoutMs: 60_000,
  maxAttempts: 5,
  staleAfterMs: 6000,
  asleepAfterMs: 60_000,
  rerouteAfterMs: 5000,
};

const NODES = ["w1", "w2", "w3"] as const;
/** The CLI and the stub gateway the soak runs: a private copy of dist/ unless --no-snapshot. */
let bin = BIN;
let stubMain = STUB_MAIN;
const JUNK_PREFIX = "req_soakjunk";
const expectedReply = (text: string) => `echo: ${text}`;

// ── small helpers ────────────────────────────────────────────────────────────

/** mulberry32: the chaos schedule is reproducible from --seed (process timing is not). */
function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const rng = makeRng(SEED);
const between = ([lo, hi]: readonly [number, number] | readonly number[]) =>
  Math.round(lo! + rng() * (hi! - lo!));
const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

const T0 = Date.now();
const elapsedS = () => round((Date.now() - T0) / 1000, 1);
function say(line: string): void {
  process.stderr.write(`[soak ${elapsedS().toFixed(1).padStart(6)} s] ${line}\n`);
}

/** Sleeps that end early when `signal` fires (chaos stopping); never rejects. */
function nap(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => {});
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/** A one-off CLI command on the hub; resolves with its output (never rejects on a non-zero exit). */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
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
const oneOffs = new Set<ChildProcess>();

// ── long-running processes ───────────────────────────────────────────────────

interface Crash {
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

class Managed {
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
function cpuSeconds(pid: number): number {
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
function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

// ── the small filesystem ─────────────────────────────────────────────────────

interface SmallFs {
  kind: "ext4" | "tmpfs" | "none";
  dir: string;
  note: string;
  unmount(): Promise<void>;
}

async function mountSmallFs(root: string): Promise<SmallFs> {
  const dir = join(root, "bbfs");
  await mkdir(dir, { recursive: true });
  const tried: string[] = [];
  const kinds = FS_KIND === "auto" ? (["ext4", "tmpfs"] as const) : FS_KIND === "none" ? [] : [FS_KIND];
  for (const kind of kinds) {
    try {
      if (kind === "ext4") {
        const image = join(root, "blackboard.ext4");
        const fh = await open(image, "w");
        await fh.truncate(FS_SIZE_MB * 2 ** 20);
        await fh.close();
        // -m 0: no blocks reserved for root, so "full" means full whoever writes.
        await run("mkfs.ext4", ["-q", "-F", "-m", "0", image]);
        await run("mount", ["-o", "loop", image, dir]);
        return {
          kind,
          dir,
          note: `${FS_SIZE_MB} MiB ext4 image, loop-mounted`,
          unmount: async () => {
            await unmountDir(dir);
            await rm(image, { force: true });
          },
        };
      }
      if (kind === "tmpfs") {
        await run("mount", ["-t", "tmpfs", "-o", `size=${FS_SIZE_MB}m,mode=0755`, "tmpfs", dir]);
        return { kind, dir, note: `${FS_SIZE_MB} MiB tmpfs`, unmount: () => unmountDir(dir) };
      }
    } catch (error) {
      tried.push(`${kind}: ${String((error as { stderr?: string }).stderr || error).trim()}`);
    }
  }
  return {
    kind: "none",
    dir,
    note:
      FS_KIND === "none"
        ? "no small filesystem (--fs none): disk-full episodes skipped"
        : `could not mount a small filesystem (${tried.join("; ")}): disk-full episodes skipped`,
    unmount: async () => {},
  };
}

async function unmountDir(dir: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    try {
      await run("umount", [dir]);
      return;
    } catch {
      await sleep(500);
    }
  }
  await run("umount", ["-l", dir]).catch(() => {});
}

/** Write until the filesystem says ENOSPC; returns the bytes written. */
async function writeUntilFull(path: string, chunkBytes: number): Promise<number> {
  const fh = await open(path, "a");
  const buf = Buffer.alloc(chunkBytes, 0x5a);
  let total = 0;
  try {
    for (;;) {
      try {
        const { bytesWritten } = await fh.write(buf);
        total += bytesWritten;
        if (bytesWritten === 0) break;
      } catch (error) {
        if (errnoCode(error) === "ENOSPC") break;
        throw error;
      }
    }
    await fh.sync().catch(() => {});
  } finally {
    await fh.close();
  }
  return total;
}

// ── malformed files ──────────────────────────────────────────────────────────

const JUNK_KINDS = ["not-json", "empty", "wrong-schema", "misplaced", "bad-name", "binary"] as const;

function junkFile(
  kind: (typeof JUNK_KINDS)[number],
  n: number,
  node: string,
): { name: string; body: Buffer } {
  const id = `${JUNK_PREFIX}_${n}`;
  switch (kind) {
    case "not-json":
      return { name: `${id}.json`, body: Buffer.from('{"schema":"clawos.task/1","id":') };
    case "empty":
      return { name: `${id}.json`, body: Buffer.alloc(0) };
    case "wrong-schema":
      return { name: `${id}.json`, body: Buffer.from(JSON.stringify({ schema: "clawos.task/1", id })) };
    case "misplaced": {
      // A whole, valid request — for another node: it must not run here.
      const other = NODES.find((x) => x !== node)!;
      const now = new Date().toISOString();
      const request = {
        schema: "clawos.task/1",
        id,
        target: other,
        priority: "P1",
        text: "junk that must never run",
        tags: [],
        createdAt: now,
        createdBy: "soak-junk",
        attempt: 1,
        maxAttempts: 3,
        route: { node: other, transport: "blackboard", reason: "junk", decidedAt: now },
        history: [],
      };
      return { name: `${id}.json`, body: Buffer.from(JSON.stringify(request)) };
    }
    case "bad-name":
      return { name: `junk-${n}.txt`, body: Buffer.from("not a task\n") };
    case "binary":
      return { name: `${id}.json`, body: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b, 0x0a, 0x80, 0x81]) };
  }
}

// ── a private copy of the build ─────────────────────────────────────────────

const DIST = fileURLToPath(new URL("../..", import.meta.url));
const REPO = join(DIST, "..");

/**
 * Others rebuild dist/ while a soak runs; a dispatch that loads a half-written module then
 * dies at import. Run the CLI from a copy of dist/ taken at the start instead.
 */
async function snapshotBuild(root: string): Promise<{ bin: string; stub: string }> {
  const app = join(root, "app");
  await cp(join(DIST, "source"), join(app, "dist", "source"), { recursive: true });
  await cp(join(DIST, "test", "testkit"), join(app, "dist", "test", "testkit"), { recursive: true });
  await cp(join(REPO, "package.json"), join(app, "package.json"));
  await symlink(join(REPO, "node_modules"), join(app, "node_modules"), "dir");
  return {
    bin: join(app, "dist", "source", "bin.js"),
    stub: join(app, "dist", "test", "testkit", "stub-gateway-main.js"),
  };
}

/** Which source the soak ran (read-only git commands). */
async function sourceState(): Promise<{ commit: string; changedFiles: string[] }> {
  try {
    const commit = (await run("git", ["-C", REPO, "rev-parse", "--short", "HEAD"])).stdout.trim();
    const status = await run("git", [
      "--no-optional-locks",
      "-C",
      REPO,
      "status",
      "--porcelain",
      "--",
      "source",
    ]);
    return {
      commit,
      changedFiles: status.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.trim()),
    };
  } catch {
    return { commit: "unknown", changedFiles: [] };
  }
}

// ── main ─────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), "clawos-soak-"));
  const home = join(root, "home");
  const logs = join(root, "logs");
  await mkdir(home, { recursive: true });
  await mkdir(logs, { recursive: true });
  const hubEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    CLAWOS_MACHINE: "hub",
    NO_COLOR: "1",
  };
  const managed: Managed[] = [];
  let tui: PtySession | undefined;
  let fs: SmallFs | undefined;
  let ending = false;
  const chaosStop = new AbortController();
  const fillerPath = () => join(fs!.dir, "soak-disk-filler.bin");
  let cleanedUp = false;

  const cleanup = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    ending = true;
    chaosStop.abort();
    tui?.dispose();
    for (const c of oneOffs) c.kill("SIGKILL");
    await Promise.all(managed.map((m) => m.stop("SIGKILL", 5_000)));
    await Promise.all(managed.map((m) => m.close()));
    if (fs) {
      await unlink(fillerPath()).catch(() => {});
      await fs.unmount();
    }
    if (!opts.keep) await rm(root, { recursive: true, force: true });
    else say(`kept ${root} (logs in ${logs})`);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    return await soak();
  } finally {
    await cleanup();
  }

  async function soak(): Promise<number> {
    const machine = machineInfo();
    say(`duration ${DURATION_MS / 1000} s, seed ${SEED}, work dir ${root}`);
    if (!opts["no-snapshot"]) ({ bin, stub: stubMain } = await snapshotBuild(root));
    const version = await runCli(["--version"], hubEnv);
    if (version.code !== 0) throw new Error(`the CLI does not start: ${version.stderr}`);
    const source = await sourceState();
    say(
      `clawos ${version.stdout.trim()} from ${bin} (commit ${source.commit}, ${source.changedFiles.length} changed file(s) under source/)`,
    );
    fs = await mountSmallFs(root);
    say(`blackboard filesystem: ${fs.note}`);
    const blackboard = join(fs.dir, "federation");

    // ── the federation: init, three remote nodes, timing, blackboard on the small fs
    const crashes: Crash[] = [];
    const restartAfterCrash = (m: Managed, crash: Crash) => {
      crashes.push(crash);
      say(`!! ${m.name} exited unexpectedly (code ${crash.code}, signal ${crash.signal}); restarting`);
      if (ending) return;
      m.busy = true;
      void sleep(1000)
        .then(() => (ending ? undefined : m.start()))
        .catch((error: unknown) => say(`!! could not restart ${m.name}: ${String(error)}`))
        .finally(() => {
          m.busy = false;
        });
    };
    const init = await runCli(["init"], hubEnv);
    if (init.code !== 0) throw new Error(`clawos init failed: ${init.stderr}`);

    const gateways: Managed[] = [];
    const workers: Managed[] = [];
    for (const [i, node] of NODES.entries()) {
      const token = `soak-secret-${node}`;
      let port = 0;
      const gw = new Managed(
        `gateway-${node}`,
        "gateway",
        () => [
          stubMain,
          "--port",
          String(port),
          "--token",
          token,
          "--chunk-delay-ms",
          String(CHUNK_DELAY_MS),
        ],
        { PATH: process.env.PATH },
        /^\{"port":\d+\}$/,
        join(logs, `gateway-${node}.log`),
        restartAfterCrash,
      );
      // The first start picks a free port; every restart reuses it (the node's registered port).
      await gw.start();
      port = (JSON.parse(gw.readyLine) as { port: number }).port;
      gateways.push(gw);
      managed.push(gw);
      const add = await runCli(
        [
          "nodes",
          "add",
          node,
          "--machine",
          `box${i + 1}`,
          "--port",
          String(port),
          "--token-env",
          `${node.toUpperCase()}_TOKEN`,
        ],
        hubEnv,
      );
      if (add.code !== 0) throw new Error(`clawos nodes add ${node} failed: ${add.stderr}`);
      const worker = new Managed(
        `worker-${node}`,
        "worker",
        () => [bin, "node", "run", "--node", node, "--no-coordinator", "--grace", "3"],
        { ...hubEnv, CLAWOS_MACHINE: `box${i + 1}`, [`${node.toUpperCase()}_TOKEN`]: token },
        /worker started on /,
        join(logs, `worker-${node}.log`),
        restartAfterCrash,
      );
      workers.push(worker);
      managed.push(worker);
    }
    const configPath = join(home, ".openclaw", "clawos", "federation.json");
    const config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
    config.timing = TIMING;
    config.blackboard = { driver: "directory", path: blackboard, coordinator: "hub" };
    await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);

    const coordinator = new Managed(
      "coordinator",
      "coordinator",
      () => [bin, "node", "run", "--coordinator", "--grace", "3"],
      hubEnv,
      /worker started on /,
      join(logs, "coordinator.log"),
      restartAfterCrash,
    );
    managed.push(coordinator);
    await coordinator.start();
    await Promise.all(workers.map((w) => w.start()));
    say("3 gateways, 3 workers and the coordinator are up");

    // ── the TUI, open for the whole run
    tui = spawnInPty(process.execPath, [bin, "tui"], {
      cols: 120,
      rows: 40,
      env: {
        ...hubEnv,
        CI: "true",
        CLAWOS_HOME: undefined,
        NODE_OPTIONS: opts["tui-heap-mb"] ? `--max-old-space-size=${Number(opts["tui-heap-mb"])}` : undefined,
      },
      timeoutMs: 30_000,
    });
    await tui.waitForText(/w1/, 30_000);
    const tuiPid = tui.pid;
    const tuiCpuAtStart = { s: cpuSeconds(tuiPid), at: Date.now() };
    let tuiPeakRss = rssKiB(tuiPid);
    /** The TUI runs the whole time: its memory over time shows a leak if there is one. */
    const tuiRss: { atS: number; mib: number }[] = [{ atS: elapsedS(), mib: round(tuiPeakRss / 1024, 1) }];
    let tuiExitedEarly: string | undefined;
    let tuiQuitting = false;
    void tui.exit.then((e) => {
      if (!ending && !tuiQuitting) {
        tuiExitedEarly = `exit code ${e.exitCode}${e.signal ? `, signal ${e.signal}` : ""} at ${elapsedS()} s`;
        say(`!! the TUI exited: ${tuiExitedEarly}`);
      }
    });
    say("TUI is open in a pty");

    const sampler = setInterval(() => {
      for (const m of managed) m.sampleRss();
      if (tui && !tui.exited) {
        const kib = rssKiB(tuiPid);
        tuiPeakRss = Math.max(tuiPeakRss, kib);
        tuiRss.push({ atS: elapsedS(), mib: round(kib / 1024, 1) });
      }
      loads.push(loadavg()[0]!);
    }, 5_000);
    const loads: number[] = [];

    // ── dispatchers
    const dispatched: DispatchedTask[] = [];
    const refused: { atS: number; reason: string; whileDiskFull: boolean }[] = [];
    const dispatchMs: number[] = [];
    let diskFullNow = false;
    let seq = 0;
    let dispatching = true;
    const WORDS = [
      "summarise the logs",
      "整理今天的日志",
      "check the backups",
      "写周报",
      "rotate keys",
      "检查节点状态 ✅",
    ];
    const dispatcher = async () => {
      while (dispatching) {
        const n = ++seq;
        const target = rng() < 0.5 ? "any" : pick(NODES);
        const priority = pick(["P0", "P1", "P2", "P3"] as const);
        const text = `soak #${n} ${pick(WORDS)}`;
        const r = await runCli(["dispatch", text, "--to", target, "--priority", priority, "--json"], hubEnv);
        dispatchMs.push(r.ms);
        let id: string | undefined;
        let routedTo = "?";
        try {
          const view = JSON.parse(r.stdout) as { id?: string; node?: string; route?: { node?: string } };
          id = view.id;
          routedTo = view.node ?? view.route?.node ?? "?";
        } catch {
          // no JSON: refused
        }
        if (id) {
          dispatched.push({ id, target, priority, text, routedTo, dispatchedAtMs: Date.now() });
          if (r.code !== 0) say(`dispatch of ${id} printed JSON but exited ${r.code}: ${r.stderr.trim()}`);
        } else {
          const lines = r.stderr.trim().split("\n");
          // A crash prints "file:line" first: keep the line that names the error too.
          const errorLine = lines.find((l) => /^\w*Error\b|^clawos: /.test(l));
          const reason = [lines[0], errorLine && errorLine !== lines[0] ? errorLine : undefined]
            .filter(Boolean)
            .join(" … ")
            .replace(/req_\w+/g, "<id>")
            .slice(0, 300);
          refused.push({ atS: elapsedS(), reason, whileDiskFull: diskFullNow });
        }
        await sleep(between(CHAOS.dispatchPause));
      }
    };

    // ── chaos
    const events: { atS: number; what: string }[] = [];
    const event = (what: string) => {
      events.push({ atS: elapsedS(), what });
      say(what);
    };
    let workerKills = 0;
    let coordinatorKills = 0;
    let gatewayRestarts = 0;
    const junk: { path: string; kind: string }[] = [];
    const diskEpisodes: {
      atS: number;
      heldS: number;
      filledMiB: number;
      minFreeBlocks: number;
      freeBlocksBefore: number;
    }[] = [];

    const killLoop = async () => {
      while (!chaosStop.signal.aborted) {
        await nap(between(CHAOS.workerKillEvery), chaosStop.signal);
        if (chaosStop.signal.aborted) return;
        const victim = rng() < CHAOS.coordinatorShare ? coordinator : pick(workers);
        if (victim.busy || !victim.pid) continue;
        victim.busy = true;
        try {
          await victim.stop("SIGKILL");
          victim.kills++;
          if (victim === coordinator) coordinatorKills++;
          else workerKills++;
          const down = between(CHAOS.workerDownFor);
          event(`SIGKILL ${victim.name}; back in ${(down / 1000).toFixed(1)} s`);
          await sleep(down);
          await victim.start();
        } finally {
          victim.busy = false;
        }
      }
    };
    const gatewayLoop = async () => {
      while (!chaosStop.signal.aborted) {
        await nap(between(CHAOS.gatewayRestartEvery), chaosStop.signal);
        if (chaosStop.signal.aborted) return;
        const gw = pick(gateways);
        if (gw.busy || !gw.pid) continue;
        gw.busy = true;
        try {
          await gw.stop("SIGKILL");
          gw.kills++;
          gatewayRestarts++;
          const down = between(CHAOS.gatewayDownFor);
          event(`SIGKILL ${gw.name}; starting it again on the same port in ${(down / 1000).toFixed(1)} s`);
          await sleep(down);
          await gw.start();
        } finally {
          gw.busy = false;
        }
      }
    };
    const junkLoop = async () => {
      let n = 0;
      while (!chaosStop.signal.aborted) {
        await nap(between(CHAOS.malformedEvery), chaosStop.signal);
        if (chaosStop.signal.aborted) return;
        const node = pick(NODES);
        const kind = pick(JUNK_KINDS);
        const { name, body } = junkFile(kind, ++n, node);
        const path = join(blackboard, "requests", node, name);
        try {
          await writeFile(path, body);
          junk.push({ path, kind });
          event(`dropped a malformed file (${kind}) into requests/${node}/${name}`);
        } catch (error) {
          // ENOSPC after the file was created leaves it empty: junk all the same, and counted.
          const partial = await exists(path);
          if (partial) junk.push({ path, kind: `${kind}, cut short` });
          event(
            `could not drop a whole malformed file (${errnoCode(error) ?? String(error)})${partial ? `; an empty requests/${node}/${name} was left` : ""}`,
          );
        }
      }
    };
    const diskLoop = async () => {
      if (fs!.kind === "none") return;
      let wait = CHAOS.diskFullFirst;
      while (!chaosStop.signal.aborted) {
        await nap(wait, chaosStop.signal);
        wait = CHAOS.diskFullEvery;
        if (chaosStop.signal.aborted) return;
        const before = await statfs(fs!.dir);
        const started = Date.now();
        diskFullNow = true;
        let filled = 0;
        let minFree = Number.POSITIVE_INFINITY;
        try {
          filled += await writeUntilFull(fillerPath(), 1 << 20);
          filled += await writeUntilFull(fillerPath(), 4096);
          event(
            `disk full: wrote ${(filled / 2 ** 20).toFixed(1)} MiB into the blackboard's filesystem; holding ${HOLD_MS / 1000} s`,
          );
          // Hold it full: whatever the workers free (temp files, progress) is taken again at once.
          while (Date.now() - started < HOLD_MS) {
            filled += await writeUntilFull(fillerPath(), 4096);
            minFree = Math.min(minFree, Number((await statfs(fs!.dir)).bavail));
            await sleep(250);
          }
        } finally {
          await unlink(fillerPath()).catch(() => {});
          diskFullNow = false;
        }
        diskEpisodes.push({
          atS: round((started - T0) / 1000, 1),
          heldS: round((Date.now() - started) / 1000, 1),
          filledMiB: round(filled / 2 ** 20, 1),
          minFreeBlocks: minFree,
          freeBlocksBefore: Number(before.bavail),
        });
        event("disk space freed again");
      }
    };

    const dispatchers = Array.from({ length: DISPATCHERS }, () => dispatcher());
    const chaos = [killLoop(), gatewayLoop(), junkLoop(), diskLoop()];
    const progress = setInterval(() => {
      say(
        `${dispatched.length} dispatched, ${refused.length} refused; load ${loadavg()[0]!.toFixed(2)}; crashes ${crashes.length}`,
      );
    }, 30_000);

    await sleep(DURATION_MS);
    say("time is up: stopping the dispatchers and the chaos");
    dispatching = false;
    chaosStop.abort();
    await Promise.all(dispatchers);
    await Promise.all(chaos);
    clearInterval(progress);
    // Everything up again (a crash restart may still be under way).
    for (const m of managed) {
      while (m.busy) await sleep(200);
      if (!m.pid) await m.start();
    }

    // ── settle: let the workers drain everything
    say(
      `settling: ${dispatched.length} dispatched; waiting until every task is final (up to ${SETTLE_MS / 1000} s)`,
    );
    const settleStarted = Date.now();
    let listed: ListedTask[] | undefined;
    let listCounts: Record<string, number> | undefined;
    let settled = false;
    let lastNote = "";
    while (Date.now() - settleStarted < SETTLE_MS) {
      const r = await runCli(["tasks", "list", "--json", "--limit", "1000000"], hubEnv, 120_000);
      try {
        const parsed = JSON.parse(r.stdout) as { tasks: ListedTask[]; counts: Record<string, number> };
        listed = parsed.tasks;
        listCounts = parsed.counts;
      } catch {
        lastNote = `tasks list failed: ${r.stderr.trim().split("\n")[0]}`;
        await sleep(3000);
        continue;
      }
      const byId = new Map(listed.map((t) => [t.id, t]));
      const open = listed.filter((t) => !["completed", "failed", "cancelled"].includes(t.state)).length;
      const missing = dispatched.filter((t) => !byId.has(t.id)).length;
      const reaping = await countFiles(join(blackboard, "reaping"));
      const junkLeft = (await Promise.all(junk.map((j) => exists(j.path)))).filter(Boolean).length;
      const note = `${open} not final, ${missing} missing from the list, ${reaping} in reaping/, ${junkLeft} malformed file(s) still in inboxes`;
      if (note !== lastNote) say(`settling: ${note}`);
      lastNote = note;
      if (open === 0 && missing === 0 && reaping === 0 && junkLeft === 0) {
        settled = true;
        break;
      }
      await sleep(3000);
    }
    const settleMs = Date.now() - settleStarted;
    say(
      settled
        ? `settled in ${(settleMs / 1000).toFixed(1)} s`
        : `NOT settled after ${settleMs / 1000} s: ${lastNote}`,
    );

    // ── the TUI: still there, still answering a key, quits cleanly
    const tuiReport: Record<string, unknown> = { exitedEarly: tuiExitedEarly ?? null };
    let tuiOk = false;
    if (tui && !tui.exited) {
      tuiPeakRss = Math.max(tuiPeakRss, rssKiB(tuiPid));
      tuiReport.rssAtEndMiB = round(rssKiB(tuiPid) / 1024, 1);
      const cpu = cpuSeconds(tuiPid) - tuiCpuAtStart.s;
      tuiReport.cpuSeconds = round(cpu, 1);
      tuiReport.cpuShareOfOneCore = round(cpu / ((Date.now() - tuiCpuAtStart.at) / 1000), 3);
      const before = tui.screenText();
      tuiReport.screenAtEnd = before
        .split("\n")
        .slice(0, 14)
        .map((l) => l.trimEnd());
      try {
        // "A key changes the screen", whatever the help says this week: the overlay redraws most
        // rows; live updates alone (heartbeat ages) touch only the few node rows.
        const screen = tui;
        const changedRows = () => {
          const now = screen.screenLines();
          const was = before.split("\n");
          return now.filter((line, i) => line.trimEnd() !== (was[i] ?? "").trimEnd()).length;
        };
        const t1 = performance.now();
        screen.write("?");
        await screen.waitFor(() => changedRows() >= 8, "the help overlay (8+ rows changed)", 15_000);
        tuiReport.helpOpenMs = round(performance.now() - t1, 1);
        tuiReport.rowsChangedByHelp = changedRows();
        const t2 = performance.now();
        screen.write("?");
        await screen.waitFor(() => changedRows() <= 5, "the main view again", 15_000);
        tuiReport.helpCloseMs = round(performance.now() - t2, 1);
        tuiQuitting = true;
        tui.write("q");
        const exit = await tui.waitForExit(15_000);
        tuiReport.quitExitCode = exit.exitCode;
        tuiReport.terminalRestored = !tui.isAlternateBuffer() && tui.isCursorVisible();
        tuiOk = exit.exitCode === 0 && tuiReport.terminalRestored === true;
      } catch (error) {
        tuiReport.error = String(error).split("\n")[0];
        tuiReport.screenOnError = tui.screenLines().map((l) => l.trimEnd());
      }
    }
    tuiReport.ok = tuiOk;
    tuiReport.peakRssMiB = round(tuiPeakRss / 1024, 1);
    // Memory at the start, at each quarter of the run, and at the end.
    tuiReport.rssMiBOverTime = [0, 0.25, 0.5, 0.75, 1].map(
      (q) => tuiRss[Math.min(tuiRss.length - 1, Math.round(q * (tuiRss.length - 1)))],
    );
    say(
      `TUI: ${tuiOk ? "answered ? and quit cleanly" : `FAILED ${JSON.stringify(tuiReport.error ?? tuiReport.exitedEarly)}`}`,
    );

    // ── node table at the end, then stop everything with SIGTERM (must exit cleanly)
    const status = await runCli(["status", "--json"], hubEnv);
    let nodesAtEnd: unknown;
    try {
      nodesAtEnd = (
        JSON.parse(status.stdout) as { nodes: { id: string; status: string; reason: string }[] }
      ).nodes.map((n) => `${n.id}: ${n.status} (${n.reason})`);
    } catch {
      nodesAtEnd = status.stderr.trim();
    }
    clearInterval(sampler);
    for (const m of managed) m.sampleRss();
    ending = true;
    const stops: Record<string, { code: number | null; signal: string | null; hung: boolean }> = {};
    await Promise.all(
      [...workers, coordinator].map(async (m) => {
        stops[m.name] = await m.stop("SIGTERM");
      }),
    );
    await Promise.all(gateways.map((g) => g.stop("SIGTERM")));
    const badStops = Object.entries(stops).filter(([, s]) => s.code !== 0 || s.hung);

    // ── the audit
    const audit = await auditBlackboard(blackboard, dispatched, listed, {
      junkPrefix: JUNK_PREFIX,
      expectedReply,
    });
    audit.listCounts = listCounts ?? {};
    const junkLeft = (
      await Promise.all(junk.map(async (j) => ((await exists(j.path)) ? j : undefined)))
    ).filter((j) => j !== undefined);

    const failures: string[] = [];
    if (audit.lost > 0) failures.push(`${audit.lost} task(s) lost`);
    if (audit.duplicated > 0) failures.push(`${audit.duplicated} task(s) duplicated`);
    if (crashes.length > 0) failures.push(`${crashes.length} unexpected process exit(s)`);
    if (!tuiOk) failures.push("the TUI did not stay responsive to the end");
    if (badStops.length > 0)
      failures.push(
        `unclean SIGTERM stop: ${badStops.map(([n, s]) => `${n} (${s.hung ? "hung" : `exit ${s.code ?? s.signal}`})`).join(", ")}`,
      );
    const warnings: string[] = [];
    if (!settled) warnings.push(`did not settle within ${SETTLE_MS / 1000} s (${lastNote})`);
    if (audit.wrongReplies.length)
      warnings.push(`${audit.wrongReplies.length} completed task(s) with the wrong reply`);
    if (audit.inconsistencies.length)
      warnings.push(`${audit.inconsistencies.length} file/list inconsistencies`);
    if (audit.orphans.length)
      warnings.push(`${audit.orphans.length} task(s) on the blackboard that no dispatcher was given`);
    if (audit.cancelled) warnings.push(`${audit.cancelled} task(s) cancelled, though nobody cancelled any`);
    if (audit.failedWithoutReason)
      warnings.push(`${audit.failedWithoutReason} failed task(s) without a reason`);
    if (junkLeft.length) warnings.push(`${junkLeft.length} malformed file(s) never quarantined`);
    if (fs.kind === "none") warnings.push(fs.note);
    // Wrong replies mean crossed results: that is a loss too.
    if (audit.wrongReplies.length)
      failures.push(`${audit.wrongReplies.length} completed task(s) carry another task's reply`);

    const processes = Object.fromEntries(
      managed.map((m) => [
        m.name,
        {
          starts: m.starts,
          chaosKills: m.kills,
          crashes: m.crashes.length,
          peakRssMiB: round(m.peakRssKiB / 1024, 1),
          ...(m.role === "gateway" ? {} : { log: m.counters }),
        },
      ]),
    );
    const otherLines = new Map<string, number>();
    for (const m of managed)
      for (const [k, v] of m.other)
        otherLines.set(`${m.role}: ${k}`, (otherLines.get(`${m.role}: ${k}`) ?? 0) + v);

    const report = {
      verdict: failures.length ? "FAIL" : "PASS",
      failures,
      warnings,
      source,
      command: `node ${process.argv.slice(1).join(" ")}`.replace(`${process.cwd()}/`, ""),
      machine,
      config: {
        durationS: DURATION_MS / 1000,
        seed: SEED,
        dispatchers: DISPATCHERS,
        stubChunkDelayMs: CHUNK_DELAY_MS,
        blackboardFs: fs.note,
        diskFullHoldS: HOLD_MS / 1000,
        tuiHeapMb: opts["tui-heap-mb"] ? Number(opts["tui-heap-mb"]) : null,
        timing: TIMING,
        chaos: CHAOS,
      },
      tasks: {
        dispatched: audit.dispatched,
        completed: audit.completed,
        failedWithReason: audit.failedWithReason,
        failedWithoutReason: audit.failedWithoutReason,
        cancelled: audit.cancelled,
        lost: audit.lost,
        duplicated: audit.duplicated,
        dispatchRefused: refused.length,
        dispatchRefusedWhileDiskFull: refused.filter((r) => r.whileDiskFull).length,
        orphans: audit.orphans.length,
        wrongReplies: audit.wrongReplies.length,
        inconsistencies: audit.inconsistencies.length,
      },
      attempts: audit.attempts,
      failureReasons: audit.failureReasons,
      refusalReasons: countBy(refused.map((r) => r.reason)),
      byPriority: audit.byPriority,
      byTarget: audit.byTarget,
      listCounts: audit.listCounts,
      leftovers: audit.leftovers,
      latencyMs: {
        dispatchCli: summarize(dispatchMs),
        endToEnd: summarize(audit.endToEndMs),
      },
      settle: { settled, ms: settleMs },
      chaos: {
        workerKills,
        coordinatorKills,
        gatewayRestarts,
        malformedDropped: junk.length,
        malformedByKind: countBy(junk.map((j) => j.kind)),
        malformedLeftInInbox: junkLeft.length,
        quarantinedFiles: audit.quarantined,
        diskFull: diskEpisodes,
      },
      tui: tuiReport,
      nodesAtEnd,
      sigtermStops: stops,
      crashes,
      processes,
      loadavg1m: loads.length ? summarize(loads) : undefined,
      otherLogLines: Object.fromEntries([...otherLines].sort((a, b) => b[1] - a[1]).slice(0, 25)),
      lostTasks: audit.lostTasks.slice(0, 50),
      duplicatedTasks: audit.duplicatedTasks.slice(0, 50),
      wrongReplies: audit.wrongReplies.slice(0, 20),
      inconsistencies: audit.inconsistencies.slice(0, 20),
      orphans: audit.orphans.slice(0, 20),
      events,
    };
    printReport(report, audit);
    if (opts.out) await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
    if (failures.length && !opts.keep) {
      // Keep the evidence: copy the process logs next to the report before the work dir goes.
      const dest = `${opts.out ?? join(tmpdir(), `clawos-soak-${SEED}`)}.logs`;
      await rm(dest, { recursive: true, force: true });
      await run("cp", ["-r", logs, dest]).catch(() => {});
      say(`logs of the failed run copied to ${dest}`);
    }
    return failures.length ? 1 : 0;
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const sub of await readdir(dir).catch(() => [] as string[]))
    n += (await readdir(join(dir, sub)).catch(() => [] as string[])).length;
  return n;
}

async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, "r")).close();
    return true;
  } catch (error) {
    return errnoCode(error) !== "ENOENT";
  }
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}

function printReport(
  report: Record<string, unknown> & { tasks: Record<string, number> },
  audit: Audit,
): void {
  const t = report.tasks;
  const chaos = report.chaos as Record<string, unknown> & { diskFull: unknown[] };
  const lat = report.latencyMs as Record<string, { p50: number; p95: number; max: number }>;
  const rows: (string | number)[][] = [
    ["soak result", "value"],
    ["tasks dispatched", t.dispatched!],
    ["  completed", t.completed!],
    ["  failed, with a reason", t.failedWithReason!],
    ["  failed, no reason", t.failedWithoutReason!],
    ["  cancelled", t.cancelled!],
    ["  LOST", t.lost!],
    ["  DUPLICATED", t.duplicated!],
    ["dispatches refused (no id given)", t.dispatchRefused!],
    ["  of them while the disk was full", t.dispatchRefusedWhileDiskFull!],
    ["orphans / wrong replies / inconsistencies", `${t.orphans} / ${t.wrongReplies} / ${t.inconsistencies}`],
    ["worker / coordinator SIGKILLs", `${chaos.workerKills} / ${chaos.coordinatorKills}`],
    ["gateway restarts", chaos.gatewayRestarts as number],
    ["malformed files dropped / left", `${chaos.malformedDropped} / ${chaos.malformedLeftInInbox}`],
    ["disk-full episodes", chaos.diskFull.length],
    ["unexpected process exits", (report.crashes as unknown[]).length],
    ["dispatch CLI p50 / p95 ms", `${lat.dispatchCli?.p50} / ${lat.dispatchCli?.p95}`],
    ["end to end p50 / p95 / max ms", `${lat.endToEnd?.p50} / ${lat.endToEnd?.p95} / ${lat.endToEnd?.max}`],
    [
      "settled",
      `${(report.settle as { settled: boolean }).settled} in ${round((report.settle as { ms: number }).ms / 1000, 1)} s`,
    ],
    ["TUI responsive at the end", String((report.tui as { ok: boolean }).ok)],
    ["verdict", String(report.verdict)],
  ];
  process.stdout.write(`\n${table(rows)}\n\n`);
  if (audit.lostTasks.length)
    process.stdout.write(
      `lost:\n${audit.lostTasks
        .slice(0, 20)
        .map((p) => `  ${p.id}: ${p.why}`)
        .join("\n")}\n`,
    );
  if (audit.duplicatedTasks.length)
    process.stdout.write(
      `duplicated:\n${audit.duplicatedTasks
        .slice(0, 20)
        .map((p) => `  ${p.id}: ${p.why}`)
        .join("\n")}\n`,
    );
  for (const f of report.failures as string[]) process.stdout.write(`FAIL: ${f}\n`);
  for (const w of report.warnings as string[]) process.stdout.write(`warning: ${w}\n`);
  process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n`);
}

process.exitCode = await main();
