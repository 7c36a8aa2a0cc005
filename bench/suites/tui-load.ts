/**
 * TUI under load — the control center with 200 nodes and 10 000 tasks, a new
 * snapshot 10 times a second, in a real pseudo-terminal (@lydell/node-pty) whose
 * screen a headless xterm keeps, exactly as a person's terminal would.
 *
 * The process under test is bench/children/tui-child.ts: the real `runTui` over a
 * SyntheticFederation (bench/children/tui-synthetic.ts). Measured:
 *
 *  - CPU share of one core over a window (from /proc/PID/stat: user + system),
 *    with the synthetic facade's own cost reported beside it;            goal ≤ 15 %
 *  - time per frame, p95: from the moment the App takes in a snapshot or a key to
 *    the frame's write (reducer + React + Ink layout + output);           goal ≤ 10 ms
 *  - keypress → screen: from writing `j`/`k` to the pty until the headless xterm
 *    shows the cursor on another row, updates still running;             goal ≤ 40 ms
 *  - peak RSS (VmHWM);                                                     goal ≤ 150 MB
 *
 *   node dist/bench/suites/tui-load.js [--nodes 200] [--tasks 10000] [--hz 10] [--view tasks|nodes]
 *     [--cols 120] [--rows 40] [--window 20] [--keys 100] [--cpu-prof DIR]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEYS, type PtySession, spawnInPty } from "../../test/testkit/pty-harness.js";
import {
  benchArgs,
  benchScript,
  emitResult,
  machineInfo,
  round,
  SUMMARY_HEADER,
  sleep,
  summarize,
  summaryRow,
  table,
  verdict,
} from "../lib.js";

const values = benchArgs({
  nodes: { type: "string", default: "200" },
  tasks: { type: "string", default: "10000" },
  hz: { type: "string", default: "10" },
  view: { type: "string", default: "tasks" },
  cols: { type: "string", default: "120" },
  rows: { type: "string", default: "40" },
  window: { type: "string", default: "20" },
  warmup: { type: "string", default: "3" },
  keys: { type: "string", default: "100" },
  "cpu-prof": { type: "string" },
  /** Diagnosis: run the child with --expose-gc and report memory after a full GC at quit. */
  "gc-at-quit": { type: "boolean", default: false },
  /** Extra V8/Node flags for the process under test, e.g. "--max-semi-space-size=8". */
  "node-flags": { type: "string", default: "" },
});

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function cpuTicks(pid: number): number {
  // /proc/PID/stat: fields after the ")" — utime is the 14th field, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function statusKb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? Number.NaN);
}

/** The task (or node) id on the row the cursor is on. */
/** The selected row of the table with the keys: the home screen marks one in each, the tasks' below. */
function selected(pty: PtySession): string | undefined {
  const rows = pty.screenLines().filter((l) => l.startsWith("›"));
  const row = values.view === "tasks" ? rows.at(-1) : rows[0];
  return row?.slice(1).trim().split(/\s+/)[0];
}

const dir = await mkdtemp(join(tmpdir(), "clawos-bench-tui-"));
const statsFile = join(dir, "stats.json");
const nodeFlags = [
  ...(values["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", values["cpu-prof"]] : []),
  ...(values["gc-at-quit"] ? ["--expose-gc"] : []),
  ...values["node-flags"].split(" ").filter(Boolean),
];
const cols = Number(values.cols);
const rows = Number(values.rows);
const launched = performance.now();
const pty = spawnInPty(
  process.execPath,
  [
    ...nodeFlags,
    benchScript("children/tui-child"),
    "--nodes",
    values.nodes,
    "--tasks",
    values.tasks,
    "--hz",
    values.hz,
    "--stats",
    statsFile,
  ],
  { cols, rows, env: { NO_COLOR: "", CI: "true" }, timeoutMs: 30_000 },
);
try {
  await pty.waitForText("ClawOS Federation (bench)");
  const firstFrameMs = performance.now() - launched;
  if (values.view === "tasks") {
    pty.write(KEYS.tab);
    await pty.waitForText("DESCRIPTION");
  }
  // Somewhere in the middle of the table, away from rows that come and go at the ends.
  for (let i = 0; i < 10; i++) pty.write(KEYS.pageDown);
  await sleep(Number(values.warmup) * 1000);

  // ── CPU and frames over a quiet window (no keys) ─────────────────────────────
  const windowMs = Number(values.window) * 1000;
  const t0 = Date.now();
  const ticks0 = cpuTicks(pty.pid);
  await sleep(windowMs);
  const ticks1 = cpuTicks(pty.pid);
  const t1 = Date.now();
  const cpuShare = (ticks1 - ticks0) / CLK_TCK / ((t1 - t0) / 1000);

  // ── keypress → screen, updates still running ─────────────────────────────────
  const latencies: number[] = [];
  let timeouts = 0;
  for (let i = 0; i < Number(values.keys); i++) {
    const before = selected(pty);
    const start = performance.now();
    // k first: after the page-downs the cursor may sit on the last row.
    pty.write(i % 2 === 0 ? "k" : "j");
    try {
      await pty.waitFor(() => selected(pty) !== before, "the cursor to move", 2_000);
      latencies.push(performance.now() - start);
    } catch {
      timeouts++;
    }
    await sleep(100 + Math.random() * 150);
  }
  const peakRssMb = statusKb(pty.pid, "VmHWM") / 1024;
  const endRssMb = statusKb(pty.pid, "VmRSS") / 1024;

  pty.write("q");
  await pty.waitForExit(30_000);
  const stats = JSON.parse(await readFile(statsFile, "utf8")) as {
    frames: { at: number; renderMs: number; frameMs?: number; frameCpuMs?: number }[];
    emitMs: number;
    ticks: number;
    uptimeMs: number;
    memory: NodeJS.MemoryUsage;
    memoryAfterGc: NodeJS.MemoryUsage;
    inkRows?: { drawn: number; reused: number };
  };
  const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
  const memory = {
    rss: mb(stats.memory.rss),
    heapTotal: mb(stats.memory.heapTotal),
    heapUsed: mb(stats.memory.heapUsed),
    external: mb(stats.memory.external),
    arrayBuffers: mb(stats.memory.arrayBuffers),
    ...(values["gc-at-quit"]
      ? { heapUsedAfterGc: mb(stats.memoryAfterGc.heapUsed), rssAfterGc: mb(stats.memoryAfterGc.rss) }
      : {}),
  };
  const inWindow = stats.frames.filter((f) => f.at >= t0 && f.at <= t1);
  const frameMs = summarize(inWindow.flatMap((f) => (f.frameMs === undefined ? [] : [f.frameMs])));
  const renderMs = summarize(inWindow.map((f) => f.renderMs));
  const frameCpuMs = summarize(inWindow.flatMap((f) => (f.frameCpuMs === undefined ? [] : [f.frameCpuMs])));
  const keys = summarize(latencies);
  const emitShare = stats.emitMs / stats.uptimeMs;
  const uiShare = cpuShare - emitShare;

  const goals = {
    cpu: uiShare <= 0.15,
    frame: frameMs.p95 <= 10,
    key: keys.p95 <= 40 && timeouts === 0,
    rss: peakRssMb <= 150,
  };
  console.log(
    `TUI under load — ${values.nodes} nodes, ${values.tasks} tasks, ${values.hz} snapshots/s, ${values.view} view, ${cols}×${rows} pty${nodeFlags.length > 0 ? `, node ${nodeFlags.join(" ")}` : ""}`,
  );
  console.log(
    `window ${values.window} s after ${values.warmup} s warm-up; ${inWindow.length} frames in it (${round(inWindow.length / (windowMs / 1000), 1)}/s); first frame ${round(firstFrameMs, 0)} ms after spawn\n`,
  );
  console.log(
    table([
      SUMMARY_HEADER,
      summaryRow("change → frame written (reducer+React+Ink)", frameMs),
      summaryRow("  the same, CPU time", frameCpuMs),
      summaryRow("Ink layout + output only", renderMs),
      summaryRow(`keypress → screen (${latencies.length} keys, ${timeouts} lost)`, keys),
    ]),
  );
  console.log(
    `\nCPU of one core: process ${round(cpuShare * 100, 1)} %, of which the synthetic facade ${round(emitShare * 100, 1)} % → UI ${round(uiShare * 100, 1)} %  (goal ≤ 15 %: ${verdict(goals.cpu)})`,
  );
  if (stats.inkRows)
    console.log(
      `Ink's rows: ${stats.inkRows.drawn} drawn, ${stats.inkRows.reused} taken from the memo (whole run)`,
    );
  console.log(`frame p95 ${frameMs.p95} ms (goal ≤ 10 ms: ${verdict(goals.frame)})`);
  console.log(`keypress → screen p95 ${keys.p95} ms (goal ≤ 40 ms: ${verdict(goals.key)})`);
  console.log(
    `RSS peak ${round(peakRssMb, 1)} MB, at the end ${round(endRssMb, 1)} MB (goal ≤ 150 MB: ${verdict(goals.rss)}); at quit, MB: ${JSON.stringify(memory)}`,
  );
  emitResult({
    bench: "tui-load",
    nodes: Number(values.nodes),
    tasks: Number(values.tasks),
    hz: Number(values.hz),
    view: values.view,
    size: `${cols}x${rows}`,
    nodeFlags,
    windowS: Number(values.window),
    framesInWindow: inWindow.length,
    cpuProcessPct: round(cpuShare * 100, 1),
    cpuFacadePct: round(emitShare * 100, 1),
    cpuUiPct: round(uiShare * 100, 1),
    frameMs,
    frameCpuMs,
    inkRenderMs: renderMs,
    keypressMs: keys,
    keyTimeouts: timeouts,
    peakRssMb: round(peakRssMb, 1),
    endRssMb: round(endRssMb, 1),
    memoryAtQuitMb: memory,
    firstFrameMs: round(firstFrameMs, 0),
    ...(stats.inkRows ? { inkRows: stats.inkRows } : {}),
    met: Object.values(goals).every(Boolean),
    goals,
    machine: machineInfo(),
  });
} finally {
  pty.dispose();
  await rm(dir, { recursive: true, force: true });
}
