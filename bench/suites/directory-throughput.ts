/**
 * Benchmark 3 — directory-driver throughput with 4 racing worker processes on one inbox,
 * each with 2 tasks in flight as `clawos node run` has by default (--concurrency).
 *
 *   pipeline  this process enqueues N tasks (8 at a time) while the 4 workers claim and
 *             complete them: tasks/s = N / (first enqueue → last completion)
 *   drain     N tasks are enqueued first (enqueue rate reported), then the 4 workers drain
 *             them: tasks/s = N / (go → last completion)
 * After each mode, and in the same run: 0 duplicates (no id claimed or completed twice,
 * exactly one result file per id) and 0 lost (every id done, nothing left in requests/ or
 * claimed/). Goal: ≥ 1000 tasks/s on 2 cores.
 *
 *   node dist/bench/suites/directory-throughput.js [--tasks 5000] [--workers 4] [--modes pipeline,drain]
 *     [--ablate nofsync,claim-random,nowatch]   (diagnosis: what the fsyncs / the per-claim inbox sort / the inbox watch cost)
 *     [--profile-dir DIR]   (CPU profiles of the workers; summarise with cpuprofile-summary.js)
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import type { TaskRequest } from "../../source/core/domain/schema.js";
import {
  benchArgs,
  benchScript,
  disableFsync,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  monoMs,
  round,
  stopChild,
  table,
  track,
  verdict,
} from "../lib.js";

const values = benchArgs({
  tasks: { type: "string", default: "5000" },
  workers: { type: "string", default: "4" },
  /** Tasks in flight per worker: `clawos node run` defaults to 2 (--concurrency). */
  concurrency: { type: "string", default: "2" },
  modes: { type: "string", default: "pipeline,drain" },
  "enqueue-concurrency": { type: "string", default: "8" },
  /** Diagnosis only: nofsync (FileHandle.sync is a no-op), claim-random, nowatch (see throughput-child.ts). */
  ablate: { type: "string", default: "" },
  /** Write a V8 CPU profile of every worker process here (for bench/tools/cpuprofile-summary.ts). */
  "profile-dir": { type: "string" },
});
const N = Number(values.tasks);
const WORKERS = Number(values.workers);
const CONCURRENCY = Number(values.concurrency);
const ENQUEUE_CONCURRENCY = Number(values["enqueue-concurrency"]);
const MODES = values.modes.split(",").map((m) => m.trim());
const NODE = "worker-pool";

const ABLATE = values.ablate.split(",").filter(Boolean);
if (ABLATE.includes("nofsync")) await disableFsync();
const roots: string[] = [];
installCleanup(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

/** Unique seed-format ids: req_YYYYMMDD_HHMMSS_<8 hex>, the hex a counter from a random base. */
function makeIds(n: number): string[] {
  const now = new Date();
  const p = (x: number) => String(x).padStart(2, "0");
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}_${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  const base = randomBytes(4).readUInt32BE() & 0x7fffffff;
  return Array.from(
    { length: n },
    (_, i) => `req_${stamp}_${((base + i) >>> 0).toString(16).padStart(8, "0")}`,
  );
}

function requestFor(id: string, i: number): TaskRequest {
  const at = new Date().toISOString();
  return {
    schema: "clawos.task/1",
    id,
    target: NODE,
    priority: (["P1", "P2", "P2", "P3"] as const)[i % 4]!,
    text: `throughput task ${i}: 整理今天的日志并给出摘要`,
    tags: [],
    createdAt: at,
    createdBy: "hub",
    attempt: 1,
    maxAttempts: 3,
    route: { node: NODE, transport: "blackboard", reason: "bench", decidedAt: at },
    history: [{ at, event: "routed", detail: "bench" }],
  };
}

async function enqueueAll(bb: DirectoryBlackboard, ids: string[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      const { created } = await bb.enqueue(requestFor(ids[i]!, i));
      if (!created) throw new Error(`enqueue of ${ids[i]} was deduplicated: id collision`);
    }
  };
  await Promise.all(Array.from({ length: ENQUEUE_CONCURRENCY }, lane));
}

interface Final {
  claimed: string[];
  completed: string[];
  lostCompletions: number;
  emptyClaims: number;
  /** The worker's CPU time (user, system) in µs from "go" to "stop". */
  cpuUs: [number, number];
}

interface Workers {
  go(): void;
  /** Resolves with the monotonic time of the last completion once `n` completions are reported. */
  allCompleted(n: number, timeoutMs: number): Promise<number>;
  stop(): Promise<Final[]>;
}

async function startWorkers(root: string): Promise<Workers> {
  const children: ChildProcess[] = [];
  const counts: number[] = [];
  const lastNs: bigint[] = [];
  const finals: Promise<Final>[] = [];
  let check: () => void = () => {};
  for (let w = 0; w < WORKERS; w++) {
    const child = track(
      fork(
        benchScript("children/throughput-child"),
        ["--root", root, "--node", NODE, "--concurrency", String(CONCURRENCY), "--ablate", values.ablate],
        {
          stdio: ["ignore", "inherit", "inherit", "ipc"],
          execArgv: values["profile-dir"] ? ["--cpu-prof", "--cpu-prof-dir", values["profile-dir"]] : [],
        },
      ),
    );
    children.push(child);
    counts.push(0);
    lastNs.push(0n);
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    finals.push(
      new Promise<Final>((resolve, reject) => {
        child.on("message", (m: { type: string; completed?: number; lastCompleteNs?: string } & Final) => {
          if (m.type === "ready") ready();
          if (m.type === "progress") {
            counts[w] = m.completed ?? 0;
            lastNs[w] = BigInt(m.lastCompleteNs ?? "0");
            check();
          }
          if (m.type === "final") resolve(m);
        });
        child.once("exit", (code) => reject(new Error(`worker ${w} exited with ${code} before reporting`)));
      }),
    );
    await isReady;
  }
  return {
    go: () => {
      for (const c of children) c.send({ type: "go" });
    },
    allCompleted: (n, timeoutMs) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          check = () => {};
          reject(new Error(`only ${counts.reduce((a, b) => a + b, 0)} of ${n} completed in ${timeoutMs} ms`));
        }, timeoutMs);
        check = () => {
          if (counts.reduce((a, b) => a + b, 0) >= n) {
            clearTimeout(timer);
            check = () => {};
            resolve(Math.max(...lastNs.map((ns) => Number(ns) / 1e6)));
          }
        };
        check();
      }),
    stop: async () => {
      for (const c of children) c.send({ type: "stop" });
      const all = await Promise.all(finals);
      // They exit by themselves after reporting (so --cpu-prof can write its file).
      await Promise.all(children.map((c) => exited(c, 10_000)));
      return all;
    },
  };
}

async function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<boolean>((resolve) => child.once("exit", () => resolve(true)));
  const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  if (!(await Promise.race([gone, late]))) await stopChild(child);
}

interface Verification {
  duplicateClaims: number;
  duplicateCompletions: number;
  lost: number;
  lostCompletions: number;
  leftPending: number;
  leftClaimed: number;
  doneFiles: number;
  resultFiles: number;
  idsWithResultCount: Record<string, number>;
  perWorker: number[];
  emptyClaims: number;
  /** All workers' CPU time per task, µs: user, system. */
  cpuPerTaskUs: [number, number];
  ok: boolean;
}

async function verify(root: string, ids: string[], finals: Final[]): Promise<Verification> {
  const claimed = finals.flatMap((f) => f.claimed);
  const completed = finals.flatMap((f) => f.completed);
  const completedSet = new Set(completed);
  const results = (await readdir(join(root, "results"))).filter((n) => n.endsWith(".json"));
  const perId = new Map<string, number>();
  for (const name of results) {
    const id = name.split(".")[0]!;
    perId.set(id, (perId.get(id) ?? 0) + 1);
  }
  const histogram: Record<string, number> = {};
  for (const id of ids) {
    const k = String(perId.get(id) ?? 0);
    histogram[k] = (histogram[k] ?? 0) + 1;
  }
  const leftPending = (await readdir(join(root, "requests", NODE)).catch(() => [])).length;
  const leftClaimed = (await readdir(join(root, "claimed", NODE)).catch(() => [])).length;
  const doneFiles = (await readdir(join(root, "done", NODE)).catch(() => [])).length;
  const v = {
    duplicateClaims: claimed.length - new Set(claimed).size,
    duplicateCompletions: completed.length - completedSet.size,
    lost: ids.filter((id) => !completedSet.has(id)).length,
    lostCompletions: finals.reduce((a, f) => a + f.lostCompletions, 0),
    leftPending,
    leftClaimed,
    doneFiles,
    resultFiles: results.length,
    idsWithResultCount: histogram,
    perWorker: finals.map((f) => f.completed.length),
    emptyClaims: finals.reduce((a, f) => a + f.emptyClaims, 0),
    cpuPerTaskUs: [0, 1].map((k) => round(finals.reduce((a, f) => a + f.cpuUs[k]!, 0) / ids.length, 0)) as [
      number,
      number,
    ],
  };
  return {
    ...v,
    ok:
      v.duplicateClaims === 0 &&
      v.duplicateCompletions === 0 &&
      v.lost === 0 &&
      v.leftPending === 0 &&
      v.leftClaimed === 0 &&
      v.doneFiles === ids.length &&
      v.resultFiles === ids.length &&
      histogram["1"] === ids.length,
  };
}

interface ModeResult {
  mode: string;
  tasks: number;
  workers: number;
  seconds: number;
  tasksPerSecond: number;
  enqueueSeconds: number;
  enqueuePerSecond: number;
  verification: Verification;
}

async function runMode(mode: "pipeline" | "drain"): Promise<ModeResult> {
  const root = await mkdtemp(join(tmpdir(), `clawos-bench-tput-${mode}-`));
  roots.push(root);
  const bb = new DirectoryBlackboard(root);
  await bb.init();
  const ids = makeIds(N);
  const workers = await startWorkers(root);
  const timeoutMs = 60_000 + N * 20;
  let t0: number;
  let enqueueMs: number;
  let end: number;
  if (mode === "pipeline") {
    workers.go();
    t0 = monoMs();
    await enqueueAll(bb, ids);
    enqueueMs = monoMs() - t0;
    end = await workers.allCompleted(N, timeoutMs);
  } else {
    const e0 = monoMs();
    await enqueueAll(bb, ids);
    enqueueMs = monoMs() - e0;
    t0 = monoMs();
    workers.go();
    end = await workers.allCompleted(N, timeoutMs);
  }
  const seconds = (end - t0) / 1000;
  const finals = await workers.stop();
  const verification = await verify(root, ids, finals);
  await rm(root, { recursive: true, force: true });
  return {
    mode,
    tasks: N,
    workers: WORKERS,
    seconds: round(seconds),
    tasksPerSecond: round(N / seconds, 1),
    enqueueSeconds: round(enqueueMs / 1000),
    enqueuePerSecond: round(N / (enqueueMs / 1000), 1),
    verification,
  };
}

const results: ModeResult[] = [];
for (const mode of MODES) results.push(await runMode(mode as "pipeline" | "drain"));
killChildren();

console.log(
  `Directory-driver throughput — ${N} tasks, ${WORKERS} worker processes racing on one inbox, ${CONCURRENCY} task(s) in flight each`,
);
console.log(ABLATE.length ? `ABLATION (diagnosis only, not the real driver): ${ABLATE.join(", ")}\n` : "");
console.log(
  table([
    ["mode", "tasks/s", "seconds", "enqueue/s", "dup claims", "dup done", "lost", "left", "per worker"],
    ...results.map((r) => [
      r.mode,
      r.tasksPerSecond,
      r.seconds,
      r.enqueuePerSecond,
      r.verification.duplicateClaims,
      r.verification.duplicateCompletions,
      r.verification.lost,
      r.verification.leftPending + r.verification.leftClaimed,
      r.verification.perWorker.join("/"),
    ]),
  ]),
);
for (const r of results) {
  console.log(
    `  ${r.mode}: result files per id ${JSON.stringify(r.verification.idsWithResultCount)}, done files ${r.verification.doneFiles}, lost completions (fenced) ${r.verification.lostCompletions}, empty claim attempts ${r.verification.emptyClaims}, workers' CPU per task ${r.verification.cpuPerTaskUs[0]} µs user + ${r.verification.cpuPerTaskUs[1]} µs sys → ${r.verification.ok ? "0 duplicates, 0 lost" : "INTEGRITY FAILURE"}`,
  );
}
const headline = results.find((r) => r.mode === "pipeline") ?? results[0]!;
const met = headline.tasksPerSecond >= 1000 && results.every((r) => r.verification.ok);
console.log(`\ngoal ≥ 1000 tasks/s end to end with 0 duplicates / 0 lost: ${verdict(met)}`);
emitResult({
  bench: "directory-throughput",
  goal: "≥ 1000 tasks/s (enqueue→claim→complete, 4 worker processes), 0 duplicates, 0 lost",
  results,
  ablations: ABLATE,
  headlineTasksPerSecond: headline.tasksPerSecond,
  met,
  machine: machineInfo(),
});
