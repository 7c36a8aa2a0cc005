/**
 * NATS JetStream driver vs directory driver, same machine, one run (ARCHITECTURE.md §4).
 *
 *   pickup      this process enqueues one task at a time (a few ms apart, so every pickup is a
 *               cold wake-up); one claimer process, woken by the driver's watch(), claims it.
 *               Latency = claim time − the moment before enqueue() (CLOCK_MONOTONIC, the same
 *               clock in both processes).
 *   throughput  N tasks are enqueued first (the enqueue rate is reported), then 4 worker
 *               processes drain them, each running `lanes` claim → complete loops at once:
 *               tasks/s = N / (go → last completion). Checked in the same run: every task
 *               completed exactly once (no duplicate, none lost), by the workers' own reports
 *               and by the blackboard's list(). Per task it also counts the messages the
 *               workers sent the server (requests, acks, pulls) and the server sent them
 *               (replies, deliveries), from the server's /varz: the round trips each costs.
 * A fresh store per run: a temp directory, or a fresh nats-server (Debian 2.9.10 unless
 * CLAWOS_NATS_SERVER says otherwise) on 127.0.0.1 with its store in a temp directory.
 * The third "driver", bare, is the floor on the same kind of server: a bare JetStream
 * work-queue loop (pull in batches, confirmed ack; bench/children/jetstream-bare.ts), and
 * bare-fenced is that loop plus the two compare-and-set writes per task the driver's fencing
 * needs, on the same client library: the floor of the protocol rather than of JetStream.
 * Goals: NATS ≥ 5 000 tasks/s with 4 workers (issue 6); NATS ≥ 0.9× bare (issue 18).
 *
 *   node dist/bench/suites/nats-vs-directory.js [--tasks 5000] [--workers 4] [--lanes 1,4]
 *     [--pickups 300] [--drivers directory,nats,bare,bare-fenced]
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { NatsBlackboard } from "../../source/core/blackboard/nats/nats.js";
import type { Blackboard } from "../../source/core/blackboard/types.js";
import type { TaskRequest } from "../../source/core/domain/schema.js";
import { type NatsServer, startNatsServer } from "../../test/integration/blackboard/nats-fixture.js";
import { freePort } from "../../test/testkit/sshd.js";
import { BareWorkQueue } from "../children/jetstream-bare.js";
import {
  benchArgs,
  completedResult,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  monoMs,
  round,
  SUMMARY_HEADER,
  type Summary,
  sleep,
  stopChild,
  summarize,
  summaryRow,
  table,
  track,
  verdict,
} from "../lib.js";

const SELF = fileURLToPath(import.meta.url);
const NODE = "worker-pool";
type Driver = "directory" | "nats" | "bare" | "bare-fenced";
/** What this bench calls on a store; the bare work queue has just these. */
type BenchBoard = Pick<Blackboard, "init" | "enqueue" | "claim" | "complete" | "watch" | "list" | "close">;

const values = benchArgs({
  child: { type: "boolean", default: false },
  driver: { type: "string", default: "directory" },
  target: { type: "string", default: "" },
  lanes: { type: "string", default: "1,4" },
  mode: { type: "string", default: "throughput" },
  tasks: { type: "string", default: "5000" },
  workers: { type: "string", default: "4" },
  pickups: { type: "string", default: "300" },
  drivers: { type: "string", default: "directory,nats" },
});

function open(driver: Driver, target: string): BenchBoard {
  if (driver === "nats") return new NatsBlackboard({ servers: [target] });
  // Its claims carry no node and its completions ignore the result: the floor does neither.
  if (driver === "bare" || driver === "bare-fenced")
    return new BareWorkQueue(target, driver === "bare-fenced") as unknown as BenchBoard;
  return new DirectoryBlackboard(target);
}

// ── the worker process ───────────────────────────────────────────────────────

async function child(): Promise<void> {
  const send = (m: unknown, then?: () => void) => process.send!(m, undefined, {}, then);
  const bb = open(values.driver as Driver, values.target);
  await bb.init();
  const lanes = Number(values.lanes);
  const pickup = values.mode === "pickup";
  const completed: string[] = [];
  let lost = 0;
  let lastNs = 0n;
  let stopping = false;
  let reported = 0;
  const waiters = new Set<() => void>();
  const unwatch = bb.watch({ inboxOf: NODE }, () => {
    for (const w of waiters) w();
    waiters.clear();
  });
  const report = () => {
    if (completed.length === reported) return;
    reported = completed.length;
    send({ type: "progress", completed: reported, lastNs: lastNs.toString() });
  };
  const lane = async () => {
    while (!stopping) {
      const claim = await bb.claim(NODE);
      if (!claim) {
        report();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 20);
          waiters.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        continue;
      }
      if (pickup) send({ type: "claimed", id: claim.request.id, t: monoMs() });
      const ok = await bb.complete(claim, completedResult(claim, "done"));
      if (ok) completed.push(claim.request.id);
      else lost++;
      lastNs = process.hrtime.bigint();
      if (completed.length - reported >= 100) report();
    }
  };
  let running: Promise<unknown> = Promise.resolve();
  let cpuAtGo = process.cpuUsage();
  process.on("message", (m: { type: string }) => {
    if (m.type === "go") {
      cpuAtGo = process.cpuUsage();
      running = Promise.all(Array.from({ length: lanes }, lane));
    }
    if (m.type === "stop") {
      stopping = true;
      for (const w of waiters) w();
      void running.then(async () => {
        report();
        unwatch();
        await bb.close();
        const cpu = process.cpuUsage(cpuAtGo);
        send({ type: "final", completed, lost, cpuMs: (cpu.user + cpu.system) / 1000 }, () =>
          process.exit(0),
        );
      });
    }
  });
  send({ type: "ready" });
}

// ── the parent ──────────────────────────────────────────────────────────────

function makeIds(n: number): string[] {
  const base = randomBytes(4).readUInt32BE() & 0x7fffffff;
  return Array.from(
    { length: n },
    (_, i) => `req_20260301_120000_${((base + i) >>> 0).toString(16).padStart(8, "0")}`,
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

interface Worker {
  child: ChildProcess;
  completed: number;
  lastNs: bigint;
  final: Promise<{ completed: string[]; lost: number; cpuMs: number }>;
  onMessage?: (m: { type: string; id?: string; t?: number }) => void;
}

async function startWorkers(
  driver: Driver,
  target: string,
  count: number,
  lanes: number,
  mode: string,
): Promise<Worker[]> {
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const child = track(
      fork(
        SELF,
        ["--child", "--driver", driver, "--target", target, "--lanes", String(lanes), "--mode", mode],
        {
          stdio: ["ignore", "inherit", "inherit", "ipc"],
          // CPU profiles of the workers, for bench/tools/cpuprofile-summary.ts.
          execArgv: process.env.BENCH_PROFILE_DIR
            ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE_DIR]
            : [],
        },
      ),
    );
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const worker: Worker = {
      child,
      completed: 0,
      lastNs: 0n,
      final: Promise.resolve({ completed: [], lost: 0, cpuMs: 0 }),
    };
    worker.final = new Promise((resolve, reject) => {
      child.on(
        "message",
        (m: {
          type: string;
          completed?: number | string[];
          lastNs?: string;
          lost?: number;
          cpuMs?: number;
        }) => {
          if (m.type === "ready") ready();
          if (m.type === "progress") {
            worker.completed = m.completed as number;
            worker.lastNs = BigInt(m.lastNs ?? "0");
          }
          if (m.type === "final")
            resolve({ completed: m.completed as string[], lost: m.lost ?? 0, cpuMs: m.cpuMs ?? 0 });
          worker.onMessage?.(m as { type: string });
        },
      );
      child.once("exit", (code) => reject(new Error(`worker exited with ${code} before reporting`)));
    });
    worker.final.catch(() => {});
    await isReady;
    workers.push(worker);
  }
  return workers;
}

async function stopWorkers(workers: Worker[]) {
  for (const w of workers) w.child.send({ type: "stop" });
  const finals = await Promise.all(workers.map((w) => w.final));
  // They exit by themselves after reporting (so --cpu-prof can write its file); stop stragglers.
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      const gone = new Promise<boolean>((resolve) => w.child.once("exit", () => resolve(true)));
      const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref());
      if (!(await Promise.race([gone, late]))) await stopChild(w.child);
    }),
  );
  return finals;
}

interface Store {
  target: string;
  /** CPU time (ms) the store's server process has used so far (0 for the directory: it has none). */
  serverCpuMs(): Promise<number>;
  /** Messages clients sent to the server and it sent to them so far (its /varz; zeros for the directory). */
  serverMsgs(): Promise<{ in: number; out: number }>;
  cleanup(): Promise<void>;
}

/** utime + stime of a process, from /proc (Linux; clock ticks of 1/100 s). */
async function processCpuMs(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

async function freshStore(driver: Driver): Promise<Store> {
  if (driver === "directory") {
    const dir = await mkdtemp(join(tmpdir(), "clawos-bench-bb-"));
    return {
      target: dir,
      serverCpuMs: async () => 0,
      serverMsgs: async () => ({ in: 0, out: 0 }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  // The fixture's server, plus its monitoring endpoint: the message counts tell the round trips per task.
  const monitor = await freePort();
  const server: NatsServer = await startNatsServer({
    config: (dir) =>
      `listen: "127.0.0.1:-1"\nhttp: "127.0.0.1:${monitor}"\nmax_payload: 4194304\njetstream { store_dir: "${dir}" }\n`,
  });
  const serverMsgs = async () => {
    const varz = (await (await fetch(`http://127.0.0.1:${monitor}/varz`)).json()) as {
      in_msgs: number;
      out_msgs: number;
    };
    return { in: varz.in_msgs, out: varz.out_msgs };
  };
  return {
    target: server.url,
    serverCpuMs: () => processCpuMs(server.pid),
    serverMsgs,
    cleanup: () => server.cleanup(),
  };
}

async function pickupBench(driver: Driver, n: number): Promise<Summary> {
  const store = await freshStore(driver);
  try {
    const bb = open(driver, store.target);
    await bb.init();
    const [worker] = await startWorkers(driver, store.target, 1, 1, "pickup");
    const claimedAt = new Map<string, (t: number) => void>();
    worker!.onMessage = (m) => {
      if (m.type === "claimed") claimedAt.get(m.id!)?.(m.t!);
    };
    worker!.child.send({ type: "go" });
    const latencies: number[] = [];
    const warmup = 20;
    for (const [i, id] of makeIds(n + warmup).entries()) {
      const seen = new Promise<number>((resolve) => claimedAt.set(id, resolve));
      await sleep(3 + (i % 3));
      const t0 = monoMs();
      await bb.enqueue(requestFor(id, i));
      const t1 = await seen;
      if (i >= warmup) latencies.push(t1 - t0);
    }
    await stopWorkers([worker!]);
    await bb.close();
    return summarize(latencies);
  } finally {
    await store.cleanup();
  }
}

interface Throughput {
  driver: Driver;
  lanes: number;
  tasks: number;
  enqueuePerS: number;
  tasksPerS: number;
  seconds: number;
  duplicates: number;
  lost: number;
  refusedCompletions: number;
  listedCompleted: number;
  /** CPU (workers + server) per task while draining: 2 cores ÷ this bounds tasks/s on an idle box. */
  cpuMsPerTask: number;
  /** Messages per task while draining: sent by the workers (requests, acks, pulls) and by the server (replies, deliveries). */
  msgsInPerTask: number;
  msgsOutPerTask: number;
  serverCpuMsPerTask: number;
}

async function throughputBench(
  driver: Driver,
  n: number,
  workersN: number,
  lanes: number,
): Promise<Throughput> {
  const store = await freshStore(driver);
  try {
    const bb = open(driver, store.target);
    await bb.init();
    const ids = makeIds(n);
    const e0 = monoMs();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < n; i = next++) {
          const { created } = await bb.enqueue(requestFor(ids[i]!, i));
          if (!created) throw new Error(`id collision on ${ids[i]}`);
        }
      }),
    );
    const enqueueMs = monoMs() - e0;
    const workers = await startWorkers(driver, store.target, workersN, lanes, "throughput");
    const done = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not all ${n} tasks completed within 300 s`)), 300_000);
      const check = () => {
        if (workers.reduce((a, w) => a + w.completed, 0) >= n) {
          clearTimeout(timer);
          resolve(Math.max(...workers.map((w) => Number(w.lastNs) / 1e6)));
        }
      };
      for (const w of workers) w.onMessage = check;
    });
    const serverCpu0 = await store.serverCpuMs();
    const msgs0 = await store.serverMsgs();
    const go = monoMs();
    for (const w of workers) w.child.send({ type: "go" });
    const last = await done;
    const serverCpu = (await store.serverCpuMs()) - serverCpu0;
    const msgs = await store.serverMsgs();
    const finals = await stopWorkers(workers);
    const all = finals.flatMap((f) => f.completed);
    const distinct = new Set(all);
    const listing = await bb.list({ finishedLimit: 0 });
    await bb.close();
    return {
      driver,
      lanes,
      tasks: n,
      enqueuePerS: round(n / (enqueueMs / 1000), 0),
      tasksPerS: round(n / ((last - go) / 1000), 0),
      seconds: round((last - go) / 1000, 2),
      duplicates: all.length - distinct.size,
      lost: ids.filter((id) => !distinct.has(id)).length,
      refusedCompletions: finals.reduce((a, f) => a + f.lost, 0),
      listedCompleted: listing.counts.completed,
      cpuMsPerTask: round((finals.reduce((a, f) => a + f.cpuMs, 0) + serverCpu) / n, 3),
      msgsInPerTask: round((msgs.in - msgs0.in) / n, 2),
      msgsOutPerTask: round((msgs.out - msgs0.out) / n, 2),
      serverCpuMsPerTask: round(serverCpu / n, 3),
    };
  } finally {
    await store.cleanup();
  }
}

async function main(): Promise<void> {
  installCleanup(async () => {});
  const n = Number(values.tasks);
  const workersN = Number(values.workers);
  const laneSets = values.lanes.split(",").map(Number);
  const drivers = values.drivers.split(",").map((d) => d.trim()) as Driver[];
  const machine = machineInfo();
  console.log(
    `machine: ${machine.cpu}, ${machine.nproc} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
      `tmp on ${machine.tmpFilesystem}, load ${machine.loadavgAtStart.join(" ")}`,
  );
  console.log(`nats-server: ${process.env.CLAWOS_NATS_SERVER ?? "/usr/sbin/nats-server"} (loopback)\n`);

  const pickups: Record<string, Summary> = {};
  for (const d of drivers) pickups[d] = await pickupBench(d, Number(values.pickups));
  console.log("enqueue → claim in another process (cold wake-ups)");
  console.log(table([SUMMARY_HEADER, ...drivers.map((d) => summaryRow(d, pickups[d]!))]));

  const runs: Throughput[] = [];
  for (const lanes of laneSets)
    for (const d of drivers) runs.push(await throughputBench(d, n, workersN, lanes));
  console.log(`\nthroughput: ${n} tasks drained by ${workersN} worker processes`);
  console.log(
    table([
      [
        "driver",
        "lanes/worker",
        "enqueue/s",
        "tasks/s",
        "seconds",
        "CPU ms/task",
        "of it server",
        "msgs in/task",
        "msgs out/task",
        "dupes",
        "lost",
        "refused",
        "listed done",
      ],
      ...runs.map((r) => [
        r.driver,
        r.lanes,
        r.enqueuePerS,
        r.tasksPerS,
        r.seconds,
        r.cpuMsPerTask,
        r.serverCpuMsPerTask,
        r.msgsInPerTask,
        r.msgsOutPerTask,
        r.duplicates,
        r.lost,
        r.refusedCompletions,
        r.listedCompleted,
      ]),
    ]),
  );
  const best = Math.max(...runs.filter((r) => r.driver === "nats").map((r) => r.tasksPerS), 0);
  const clean = runs.every((r) => r.duplicates === 0 && r.lost === 0 && r.listedCompleted === r.tasks);
  console.log(`\ngoal NATS ≥ 5000 tasks/s with ${workersN} workers: best ${best} → ${verdict(best >= 5000)}`);
  console.log(`exactly once in every run: ${clean ? "yes" : "NO"}`);
  const bestBare = Math.max(...runs.filter((r) => r.driver === "bare").map((r) => r.tasksPerS), 0);
  const bareRatio = bestBare > 0 ? round(best / bestBare, 2) : undefined;
  if (bareRatio !== undefined)
    console.log(
      `goal NATS ≥ 0.9× a bare JetStream work queue: ${best} / ${bestBare} tasks/s = ${bareRatio}× → ${verdict(bareRatio >= 0.9)}`,
    );
  const bestFenced = Math.max(...runs.filter((r) => r.driver === "bare-fenced").map((r) => r.tasksPerS), 0);
  if (bestFenced > 0)
    console.log(
      `the fenced protocol on the bare client: ${bestFenced} tasks/s; the driver reaches ${round(best / bestFenced, 2)}× of it`,
    );
  emitResult({
    bench: "nats-vs-directory",
    machine,
    pickups,
    runs,
    goal: { natsTasksPerS: 5000, best, met: best >= 5000 },
    bare:
      bareRatio === undefined
        ? undefined
        : { best: bestBare, ratio: bareRatio, met: bareRatio >= 0.9, clean },
  });
  killChildren();
}

if (values.child) await child();
else await main();
