import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { newTaskId } from "../../source/core/domain/ids.js";
import type { TaskRequest, TaskResult } from "../../source/core/domain/schema.js";
import { blackboardDir, loadConfig } from "../../source/core/infra/config.js";
import { spawnInPty } from "../../test/testkit/pty-harness.js";
import {
  BIN,
  benchArgs,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  makeHome,
  round,
  SUMMARY_HEADER,
  type Summary,
  spawnStub,
  summarize,
  summaryRow,
  table,
  verdict,
  writeFourNodeFederation,
} from "../lib.js";

const values = benchArgs({
  tasks: { type: "string", default: "10000" },
  runs: { type: "string", default: "10" },
  cols: { type: "string", default: "120" },
  rows: { type: "string", default: "40" },
  /** One extra launch with --cpu-prof writing here, after the timed runs (on the seeded board). */
  "profile-dir": { type: "string" },
  /** Diagnosis: also time every launch with NODE_COMPILE_CACHE set (what module.enableCompileCache() would give). */
  "compile-cache": { type: "boolean", default: false },
});
const TASKS = Number(values.tasks);
const RUNS = Number(values.runs);

const home = await makeHome("clawos-bench-tui-first-");
installCleanup(() => home.cleanup());
const main = await spawnStub({ token: "main-secret" });
const alpha = await spawnStub({ token: "alpha-secret" });
await writeFourNodeFederation(home, main.port, alpha.port);

interface Timing {
  firstByteMs: number;
  firstFrameMs: number;
}

/** One launch: spawn → first byte → first full frame (title and nodes table) → q → exit. */
async function launch(nodeFlags: string[] = [], extraEnv: Record<string, string> = {}): Promise<Timing> {
  const started = performance.now();
  let firstByte = Number.NaN;
  const pty = spawnInPty(process.execPath, [...nodeFlags, BIN], {
    cols: Number(values.cols),
    rows: Number(values.rows),
    env: { ...home.env, NO_COLOR: "", CI: "true", ...extraEnv },
    timeoutMs: 20_000,
  });
  try {
    await pty.waitFor(
      () => {
        if (Number.isNaN(firstByte) && pty.output().length > 0) firstByte = performance.now() - started;
        const lines = pty.screenLines();
        return /ClawOS Federation/.test(lines[0] ?? "") && /NODE\s+STATUS/.test(lines[1] ?? "");
      },
      "the first frame",
      20_000,
    );
    const firstFrameMs = performance.now() - started;
    pty.write("q");
    const exit = await pty.waitForExit(20_000);
    if (exit.exitCode !== 0) throw new Error(`clawos exited ${exit.exitCode}:\n${pty.screenText()}`);
    return { firstByteMs: firstByte, firstFrameMs };
  } finally {
    pty.dispose();
  }
}

const cacheEnv = { NODE_COMPILE_CACHE: `${home.home}/node-compile-cache` };

interface Measured {
  firstByte: Summary;
  firstFrame: Summary;
  cachedFirstFrame?: Summary;
}

/** Runs interleaved: plain, then (with --compile-cache) with a warm compile cache. */
async function measure(): Promise<Measured> {
  await launch(); // warm-up: page cache
  if (values["compile-cache"]) await launch([], cacheEnv); // fills the compile cache
  const runs: Timing[] = [];
  const cached: Timing[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await launch());
    if (values["compile-cache"]) cached.push(await launch([], cacheEnv));
  }
  return {
    firstByte: summarize(runs.map((r) => r.firstByteMs)),
    firstFrame: summarize(runs.map((r) => r.firstFrameMs)),
    ...(cached.length > 0 ? { cachedFirstFrame: summarize(cached.map((r) => r.firstFrameMs)) } : {}),
  };
}

const empty = await measure();

// ── seed finished tasks through the driver (as bench/suites/status-wall.ts does) ─────
const loaded = await loadConfig(home.clawosHome);
const bb = new DirectoryBlackboard(blackboardDir(loaded, home.env));
await bb.init();
const nodes = ["main", "alpha", "macbook-air"] as const;
const newest = Date.now() - 60_000;
let next = 0;
const seedLane = async () => {
  for (let i = next++; i < TASKS; i = next++) {
    const created = new Date(newest - i * 61_000);
    const node = nodes[i % nodes.length] ?? "main";
    const at = created.toISOString();
    const request: TaskRequest = {
      schema: "clawos.task/1",
      id: newTaskId(created),
      target: i % 4 === 0 ? "any" : node,
      priority: (["P0", "P1", "P2", "P2", "P3"] as const)[i % 5] ?? "P2",
      text: `${["检查 alpha 节点的健康状态并汇报", "整理今天的日志并给出摘要", "summarise yesterday's failed tasks"][i % 3]} (#${i})`,
      tags: [],
      createdAt: at,
      createdBy: "hub",
      attempt: 1,
      maxAttempts: 3,
      route: { node, transport: "localhost", reason: `${node} is online`, decidedAt: at },
      history: [{ at, event: "routed", detail: `${node} is online` }],
    };
    const claim = await bb.enqueueClaimed(request);
    if (!claim) throw new Error(`duplicate id ${request.id}`);
    const status: TaskResult["status"] = i % 20 === 0 ? "failed" : "completed";
    await bb.complete(claim, {
      schema: "clawos.result/1",
      id: request.id,
      attempt: 1,
      node,
      status,
      ...(status === "completed"
        ? { text: `完成：${request.text}` }
        : { error: { kind: "gateway_provider_timeout", message: "upstream provider timeout" } }),
      startedAt: at,
      finishedAt: new Date(created.getTime() + 4_000).toISOString(),
      durationMs: 4_000,
    });
  }
};
await Promise.all(Array.from({ length: 16 }, seedLane));
const seeded = TASKS > 0 ? await measure() : undefined;
let profiled: Timing | undefined;
if (values["profile-dir"]) profiled = await launch(["--cpu-prof", "--cpu-prof-dir", values["profile-dir"]]);

await main.stop();
await alpha.stop();
killChildren();
await home.cleanup();

const worst = seeded?.firstFrame.p50 ?? empty.firstFrame.p50;
console.log(
  `clawos (the control center) first frame — fresh process per run in a ${values.cols}×${values.rows} pty, ${RUNS} runs after a warm-up`,
);
console.log("(4 nodes: 2 localhost stub gateways, 1 remote, 1 planned)\n");
console.log(
  table([
    SUMMARY_HEADER,
    summaryRow("first byte — empty board", empty.firstByte),
    summaryRow("first frame — empty board", empty.firstFrame),
    ...(empty.cachedFirstFrame
      ? [summaryRow("first frame — empty board, NODE_COMPILE_CACHE warm", empty.cachedFirstFrame)]
      : []),
    ...(seeded
      ? [
          summaryRow(`first byte — ${TASKS} finished tasks`, seeded.firstByte),
          summaryRow(`first frame — ${TASKS} finished tasks`, seeded.firstFrame),
          ...(seeded.cachedFirstFrame
            ? [
                summaryRow(
                  `first frame — ${TASKS} finished, NODE_COMPILE_CACHE warm`,
                  seeded.cachedFirstFrame,
                ),
              ]
            : []),
        ]
      : []),
  ]),
);
console.log(`\ngoal first frame ≤ 500 ms (p50): ${round(worst, 1)} ms ${verdict(worst <= 500)}`);
if (profiled)
  console.log(
    `profiled launch: first frame ${round(profiled.firstFrameMs, 1)} ms; profile in ${values["profile-dir"]}`,
  );
emitResult({
  bench: "tui-first-frame",
  goal: "first frame of `clawos` ≤ 500 ms",
  tasks: TASKS,
  runs: RUNS,
  empty,
  seeded,
  firstFrameP50Ms: worst,
  met: worst <= 500,
  machine: machineInfo(),
});
