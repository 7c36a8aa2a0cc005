import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { reactProduction, requireBanner, yogaWithoutFetch } from "../../source/build/bundle-plugins.js";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { blackboardDir, loadConfig } from "../../source/core/infra/config.js";
import { spawnInPty } from "../../test/testkit/pty-harness.js";
import {
  asUserRuns,
  BIN,
  benchArgs,
  benchScript,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  makeHome,
  round,
  SUMMARY_HEADER,
  type Summary,
  sleep,
  spawnStub,
  summarize,
  summaryRow,
  table,
  verdict,
  writeFourNodeFederation,
} from "../lib.js";
import { seedFinishedTasks } from "../seed.js";

const values = benchArgs({
  tasks: { type: "string", default: "10000" },
  runs: { type: "string", default: "10" },
  cols: { type: "string", default: "120" },
  rows: { type: "string", default: "40" },
  /** One extra launch with --cpu-prof writing here, after the timed runs (on the seeded board). */
  "profile-dir": { type: "string" },
  /** Diagnosis: also time every launch with NODE_COMPILE_CACHE set (what module.enableCompileCache() would give). */
  "compile-cache": { type: "boolean", default: false },
  /** Issue 18: one launch on the empty board left idle this long, its RSS read at the end (0: skip). */
  "idle-seconds": { type: "string", default: "15" },
});
const TASKS = Number(values.tasks);
const RUNS = Number(values.runs);

const home = await makeHome("clawos-bench-tui-first-");
installCleanup(() => home.cleanup());
const main = await spawnStub({ token: "main-secret" });
const alpha = await spawnStub({ token: "alpha-secret" });
await writeFourNodeFederation(home, main.port, alpha.port);

// The reference, bundled as clawos is (ES chunks, React's production build, yoga without fetch),
// but with Ink as it ships (none of the control center's own changes to Ink's text and output).
const REFERENCE = `${home.home}/ink-reference/ink-hello.mjs`;
await build({
  entryPoints: { "ink-hello": benchScript("children/ink-hello") },
  outdir: `${home.home}/ink-reference`,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  // As clawos: Ink's devtools bridge (development only) stays in a chunk nobody loads.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  logLevel: "warning",
  external: ["react-devtools-core"],
  plugins: [reactProduction, yogaWithoutFetch],
  banner: requireBanner,
});

interface Timing {
  firstByteMs: number;
  firstFrameMs: number;
  /** With idleMs: VmRSS (MB) after idling that long, and the peak (VmHWM). */
  idleRssMb?: number;
  idlePeakMb?: number;
}

function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rss: round(kb("VmRSS") / 1024, 1), peak: round(kb("VmHWM") / 1024, 1) };
}

/** The reference's one line (bench/children/ink-hello.ts). */
const REFERENCE_LINE = /Ink reference: one line/;
const isFirstFrame = (lines: string[]) =>
  /ClawOS Federation/.test(lines[0] ?? "") && /NODE\s+STATUS/.test(lines[1] ?? "");

/**
 * One launch: spawn → first byte → first full frame (title and nodes table) → q → exit.
 * With `reference`, the one-line Ink app instead of the control center, its line as the frame.
 */
async function launch(
  nodeFlags: string[] = [],
  extraEnv: Record<string, string> = {},
  idleMs = 0,
  reference = false,
): Promise<Timing> {
  const started = performance.now();
  let firstByte = Number.NaN;
  const env = { ...home.env, NO_COLOR: "", CI: "true", ...extraEnv };
  // As a user starts it: the bundle's own file (the control center restarts itself once with its heap flags).
  const run = reference
    ? {
        command: process.execPath,
        args: [REFERENCE],
        env,
      }
    : asUserRuns([...nodeFlags, BIN], env);
  const pty = spawnInPty(run.command, run.args, {
    cols: Number(values.cols),
    rows: Number(values.rows),
    env: run.env,
    timeoutMs: 20_000,
  });
  try {
    await pty.waitFor(
      () => {
        if (Number.isNaN(firstByte) && pty.output().length > 0) firstByte = performance.now() - started;
        const lines = pty.screenLines();
        return reference ? lines.some((line) => REFERENCE_LINE.test(line)) : isFirstFrame(lines);
      },
      "the first frame",
      20_000,
    );
    const firstFrameMs = performance.now() - started;
    let idle: { rss: number; peak: number } | undefined;
    if (idleMs > 0) {
      await sleep(idleMs);
      idle = memoryMb(pty.pid);
    }
    pty.write("q");
    const exit = await pty.waitForExit(20_000);
    if (exit.exitCode !== 0) throw new Error(`clawos exited ${exit.exitCode}:\n${pty.screenText()}`);
    return {
      firstByteMs: firstByte,
      firstFrameMs,
      ...(idle ? { idleRssMb: idle.rss, idlePeakMb: idle.peak } : {}),
    };
  } finally {
    pty.dispose();
  }
}

const cacheEnv = { NODE_COMPILE_CACHE: `${home.home}/node-compile-cache` };

interface Measured {
  firstByte: Summary;
  firstFrame: Summary;
  cachedFirstFrame?: Summary;
  /** The one-line Ink app's first frame, launched between the control center's (empty board only). */
  referenceFirstFrame?: Summary;
}

/**
 * Runs interleaved: plain, then (with --compile-cache) with a warm compile cache, then (with
 * `reference`) the one-line Ink app.
 */
async function measure(reference = false): Promise<Measured> {
  await launch(); // warm-up: page cache
  if (values["compile-cache"]) await launch([], cacheEnv); // fills the compile cache
  if (reference) await launch([], {}, 0, true);
  const runs: Timing[] = [];
  const cached: Timing[] = [];
  const references: Timing[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await launch());
    if (values["compile-cache"]) cached.push(await launch([], cacheEnv));
    if (reference) references.push(await launch([], {}, 0, true));
  }
  return {
    firstByte: summarize(runs.map((r) => r.firstByteMs)),
    firstFrame: summarize(runs.map((r) => r.firstFrameMs)),
    ...(cached.length > 0 ? { cachedFirstFrame: summarize(cached.map((r) => r.firstFrameMs)) } : {}),
    ...(references.length > 0
      ? { referenceFirstFrame: summarize(references.map((r) => r.firstFrameMs)) }
      : {}),
  };
}

const empty = await measure(true);
// The control center left alone on 3 nodes (2 local gateways probed, 1 remote) and a planned
// one; then the one-line Ink app left alone as long, its RSS the reference.
const IDLE_S = Number(values["idle-seconds"]);
const idle = IDLE_S > 0 ? await launch([], {}, IDLE_S * 1000) : undefined;
const idleReference = IDLE_S > 0 ? await launch([], {}, IDLE_S * 1000, true) : undefined;

// ── seed finished tasks through the driver (as bench/suites/status-wall.ts does) ─────
const loaded = await loadConfig(home.clawosHome);
const bb = new DirectoryBlackboard(blackboardDir(loaded, home.env));
await bb.init();
await seedFinishedTasks(bb, { from: 0, to: TASKS, nodes: ["main", "alpha", "macbook-air"] });
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
    ...(empty.referenceFirstFrame
      ? [summaryRow("reference: a one-line Ink app, first frame", empty.referenceFirstFrame)]
      : []),
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
console.log(`\ngoal first frame ≤ 250 ms (p50): ${round(worst, 1)} ms ${verdict(worst <= 250)}`);
if (idle)
  console.log(
    `idle ${IDLE_S} s after the first frame (empty board): RSS ${idle.idleRssMb} MB, peak ${idle.idlePeakMb} MB; goal ≤ 80 MB ${verdict(idle.idleRssMb! <= 80)}`,
  );
if (idleReference)
  console.log(
    `reference: a one-line Ink app idle ${IDLE_S} s: RSS ${idleReference.idleRssMb} MB, peak ${idleReference.idlePeakMb} MB`,
  );
if (profiled)
  console.log(
    `profiled launch: first frame ${round(profiled.firstFrameMs, 1)} ms; profile in ${values["profile-dir"]}`,
  );
emitResult({
  bench: "tui-first-frame",
  goal: "first frame of `clawos` ≤ 250 ms",
  tasks: TASKS,
  runs: RUNS,
  empty,
  seeded,
  firstFrameP50Ms: worst,
  idleSeconds: IDLE_S,
  idleRssMb: idle?.idleRssMb,
  idlePeakMb: idle?.idlePeakMb,
  referenceFirstFrameP50Ms: empty.referenceFirstFrame?.p50,
  referenceIdleRssMb: idleReference?.idleRssMb,
  met: worst <= 250,
  machine: machineInfo(),
});
