/**
 * Benchmark 2 — blackboard pickup latency: dispatch in this process → claimed in another.
 *
 * This process dispatches through FederationCore.dispatch to node "laptop", which lives on
 * another machine as far as clawos knows, so the task is published into the laptop's inbox
 * on the directory blackboard. Another process picks it up:
 *
 *   child   bench/children/pickup-child.ts: DirectoryBlackboard.watch + claim; reports the claim
 *           time from CLOCK_MONOTONIC over IPC (same clock as our t0: sub-µs precision).
 *   worker  the real `clawos node run --node laptop` (CLAWOS_MACHINE=laptop) against a stub
 *           gateway; the claim time is the ISO timestamp of its "claimed <id>" log line
 *           (same machine's wall clock, millisecond resolution, so up to 1 ms early), and the
 *           moment that line reached us is given too as an upper bound.
 *
 * Latency = claim time − the moment just before dispatch() was called, so it includes
 * dispatch's own work (routing, blackboard listing, fsync'd publish). Tasks go one at a
 * time with a 20–50 ms idle gap, so each pickup is a cold wake-up, not a busy loop.
 * Goal: p50 ≤ 50 ms (the seed's nodes polled every few minutes).
 *
 *   node dist/bench/suites/blackboard-pickup.js [--tasks 200] [--worker-tasks 100] [--modes child,worker]
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { FederationCore } from "../../source/core/federation/federation.js";
import {
  BIN,
  benchArgs,
  benchScript,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  makeHome,
  monoMs,
  round,
  SUMMARY_HEADER,
  type Summary,
  sleep,
  spawnStub,
  stopChild,
  summarize,
  summaryRow,
  table,
  track,
  verdict,
} from "../lib.js";

const values = benchArgs({
  tasks: { type: "string", default: "200" },
  "worker-tasks": { type: "string", default: "100" },
  modes: { type: "string", default: "child,worker" },
  warmup: { type: "string", default: "10" },
});
const TASKS = Number(values.tasks);
const WORKER_TASKS = Number(values["worker-tasks"]);
const WARMUP = Number(values.warmup);
const MODES = values.modes.split(",").map((m) => m.trim());
const TOKEN = "laptop-secret";

const home = await makeHome("clawos-bench-pickup-");
installCleanup(() => home.cleanup());

/** Resolves with what `match` returns for the first message/line that satisfies it. */
class Inbox<T> {
  private readonly waiting = new Map<string, (value: T) => void>();
  private readonly early = new Map<string, T>();
  deliver(key: string, value: T): void {
    const resolve = this.waiting.get(key);
    if (resolve) {
      this.waiting.delete(key);
      resolve(value);
    } else this.early.set(key, value);
  }
  wait(key: string, timeoutMs = 15_000): Promise<T> {
    const early = this.early.get(key);
    if (early !== undefined) {
      this.early.delete(key);
      return Promise.resolve(early);
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`no pickup of ${key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(key, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }
}

async function writeConfig(port: number): Promise<void> {
  await home.writeFederation({
    version: 1,
    // No machine field: each process takes its name from CLAWOS_MACHINE (hub, laptop), which
    // only fills in an absent field.
    blackboard: { driver: "directory", coordinator: "hub" },
    nodes: [
      {
        id: "laptop",
        machine: "laptop",
        transport: "auto",
        port,
        token: { env: "LAPTOP_TOKEN" },
      },
    ],
  });
}

interface ModeResult {
  mode: string;
  tasks: number;
  dispatchToClaim: Summary;
  /** Claim time minus the moment dispatch() returned (negative: claimed before dispatch returned). */
  enqueuedToClaim: Summary;
  dispatchCall: Summary;
  /** worker mode: when the log line reached this process. */
  dispatchToLineReceived?: Summary;
}

async function runChildMode(): Promise<ModeResult> {
  await writeConfig(18789);
  const core = await FederationCore.open(home.clawosHome, { env: home.env });
  const claims = new Inbox<number>();
  const child = track(
    fork(benchScript("children/pickup-child"), ["--root", core.blackboard.location, "--node", "laptop"], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.on("message", (m: { type: string; id?: string; claimedNs?: string }) => {
      if (m.type === "ready") resolve();
      if (m.type === "claimed" && m.id && m.claimedNs)
        claims.deliver(m.id, Number(BigInt(m.claimedNs)) / 1e6);
    });
    child.once("exit", (code) => reject(new Error(`pickup child exited with ${code}`)));
  });
  const total: number[] = [];
  const afterEnqueue: number[] = [];
  const call: number[] = [];
  for (let i = 0; i < WARMUP + TASKS; i++) {
    await sleep(20 + Math.random() * 30);
    const t0 = monoMs();
    const { request } = await core.dispatch({ text: `pickup probe ${i}`, to: "laptop", priority: "P2" });
    const t1 = monoMs();
    const claimedAt = await claims.wait(request.id);
    if (i < WARMUP) continue;
    total.push(claimedAt - t0);
    afterEnqueue.push(claimedAt - t1);
    call.push(t1 - t0);
  }
  child.send({ type: "stop" });
  await stopChild(child as ChildProcess);
  await core.close();
  return {
    mode: "child (DirectoryBlackboard.watch + claim, hrtime over IPC)",
    tasks: TASKS,
    dispatchToClaim: summarize(total),
    enqueuedToClaim: summarize(afterEnqueue),
    dispatchCall: summarize(call),
  };
}

async function runWorkerMode(): Promise<ModeResult> {
  const stub = await spawnStub({ token: TOKEN, reply: "done on the laptop" });
  await writeConfig(stub.port);
  const core = await FederationCore.open(home.clawosHome, { env: home.env });
  const worker = track(
    spawn(process.execPath, [BIN, "node", "run", "--node", "laptop", "--no-coordinator"], {
      env: { ...home.env, CLAWOS_MACHINE: "laptop", LAPTOP_TOKEN: TOKEN },
      stdio: ["ignore", "ignore", "pipe"],
    }),
  );
  const claims = new Inbox<{ wallMs: number; receivedMono: number }>();
  const completions = new Inbox<true>();
  let log = "";
  let pending = "";
  const started = new Promise<void>((resolve, reject) => {
    worker.stderr!.setEncoding("utf8").on("data", (d: string) => {
      const receivedMono = monoMs();
      log += d;
      pending += d;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.includes("worker started on laptop")) resolve();
        // `<ISO time> [level] laptop: claimed <id> …` (the level column came with --log-level).
        const claimed = /^(\S+)\s+(?:(?:info|warn|error)\s+)?laptop: claimed (req_\S+)/.exec(line);
        if (claimed) claims.deliver(claimed[2]!, { wallMs: Date.parse(claimed[1]!), receivedMono });
        const done =
          /^\S+\s+(?:(?:info|warn|error)\s+)?laptop: (req_\S+) (completed|failed|attempt failed)/.exec(line);
        if (done) completions.deliver(done[1]!, true);
      }
    });
    worker.once("exit", (code) => reject(new Error(`worker exited with ${code}:\n${log}`)));
  });
  await started;
  const total: number[] = [];
  const afterEnqueue: number[] = [];
  const call: number[] = [];
  const received: number[] = [];
  for (let i = 0; i < WARMUP + WORKER_TASKS; i++) {
    await sleep(20 + Math.random() * 30);
    const t0Wall = performance.timeOrigin + performance.now();
    const t0Mono = monoMs();
    const { request } = await core.dispatch({ text: `pickup probe ${i}`, to: "laptop", priority: "P2" });
    const t1Wall = performance.timeOrigin + performance.now();
    const t1Mono = monoMs();
    const claim = await claims.wait(request.id);
    await completions.wait(request.id); // let the worker go idle again before the next task
    if (i < WARMUP) continue;
    total.push(claim.wallMs - t0Wall);
    afterEnqueue.push(claim.wallMs - t1Wall);
    call.push(t1Mono - t0Mono);
    received.push(claim.receivedMono - t0Mono);
  }
  await stopChild(worker);
  await stub.stop();
  await core.close();
  return {
    mode: "worker (real `clawos node run`, log timestamp)",
    tasks: WORKER_TASKS,
    dispatchToClaim: summarize(total),
    enqueuedToClaim: summarize(afterEnqueue),
    dispatchCall: summarize(call),
    dispatchToLineReceived: summarize(received),
  };
}

const results: ModeResult[] = [];
if (MODES.includes("child")) results.push(await runChildMode());
if (MODES.includes("worker")) results.push(await runWorkerMode());
killChildren();
await home.cleanup();

console.log(
  `Blackboard pickup — dispatch here, claim in another process; ${WARMUP} warm-up tasks, 20–50 ms idle between tasks\n`,
);
const rows: (string | number)[][] = [SUMMARY_HEADER];
for (const r of results) {
  const short = r.mode.split(" ")[0]!;
  rows.push(summaryRow(`${short}: dispatch→claimed`, r.dispatchToClaim));
  rows.push(summaryRow(`${short}: dispatch() returned→claimed`, r.enqueuedToClaim));
  rows.push(summaryRow(`${short}: dispatch() call itself`, r.dispatchCall));
  if (r.dispatchToLineReceived)
    rows.push(summaryRow(`${short}: dispatch→log line received`, r.dispatchToLineReceived));
}
console.log(table(rows));
for (const r of results) console.log(`  ${r.mode.split(" ")[0]} = ${r.mode}`);
const headline = results[0]?.dispatchToClaim.p50 ?? Number.NaN;
const met = results.every((r) => r.dispatchToClaim.p50 <= 50);
console.log(
  `\ngoal p50 ≤ 50 ms: ${verdict(met)} (${results.map((r) => `${r.mode.split(" ")[0]} p50 ${round(r.dispatchToClaim.p50, 2)} ms`).join(", ")})`,
);
emitResult({
  bench: "blackboard-pickup",
  goal: "dispatch→claimed by another process p50 ≤ 50 ms",
  results,
  headlineP50Ms: headline,
  met,
  machine: machineInfo(),
});
