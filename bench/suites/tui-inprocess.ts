/**
 * TUI render cost in-process: the real `runTui` over a SyntheticFederation, drawing
 * to a fake TTY stdout (a Writable with columns/rows that counts bytes) instead of
 * a pseudo-terminal. No terminal emulator competes for the CPU and nothing is
 * parsed on the other side, so this isolates what one frame costs the control
 * center: wall time and CPU time (process.cpuUsage) from the moment a snapshot
 * or key is taken in to the frame's write, and the process's CPU share overall.
 *
 *   node dist/bench/suites/tui-inprocess.js [--nodes 200] [--tasks 10000] [--hz 10] [--seconds 20]
 *     [--view tasks|nodes] [--cols 120] [--rows 40] [--keys 0]
 *
 * Add node flags (--cpu-prof, --trace-gc, --expose-gc) before the script to diagnose.
 */
import { PassThrough, Writable } from "node:stream";
import { getHeapSpaceStatistics } from "node:v8";
import { SyntheticFederation } from "../children/tui-synthetic.js";
import {
  benchArgs,
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

// As the control center loads it (string-width shared with Ink, source/ui/load-tui.ts).
const { runTui } = await (await import("../../source/ui/load-tui.js")).loadTui();

const values = benchArgs({
  nodes: { type: "string", default: "200" },
  tasks: { type: "string", default: "10000" },
  hz: { type: "string", default: "10" },
  seconds: { type: "string", default: "20" },
  warmup: { type: "string", default: "3" },
  view: { type: "string", default: "tasks" },
  cols: { type: "string", default: "120" },
  rows: { type: "string", default: "40" },
  /** Key presses (j/k) per second during the window, to price key frames too. */
  keys: { type: "string", default: "0" },
});

class FakeTty extends Writable {
  isTTY = true;
  columns = Number(values.cols);
  rows = Number(values.rows);
  bytes = 0;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    done();
  }
}
const stdout = new FakeTty() as unknown as NodeJS.WriteStream;
const input = new PassThrough() as unknown as NodeJS.ReadStream & PassThrough;
Object.assign(input, {
  isTTY: true,
  isRaw: false,
  setRawMode: () => input,
  ref: () => input,
  unref: () => input,
});

const api = new SyntheticFederation({
  nodes: Number(values.nodes),
  tasks: Number(values.tasks),
  hz: Number(values.hz),
});
const frames: { at: number; renderMs: number; frameMs?: number; frameCpuMs?: number }[] = [];
api.start();
const done = runTui(api, {
  stdin: input,
  stdout,
  handleSignals: false,
  title: "ClawOS Federation (bench)",
  onRender: ({ renderTime, frameTime, frameCpuTime }) =>
    frames.push({
      at: performance.now(),
      renderMs: renderTime,
      ...(frameTime === undefined ? {} : { frameMs: frameTime }),
      ...(frameCpuTime === undefined ? {} : { frameCpuMs: frameCpuTime }),
    }),
});
await sleep(500);
if (values.view === "tasks") input.write("\t");
await sleep(Number(values.warmup) * 1000);

const keysPerSecond = Number(values.keys);
let keyTimer: NodeJS.Timeout | undefined;
if (keysPerSecond > 0) {
  let n = 0;
  keyTimer = setInterval(() => input.write(n++ % 2 === 0 ? "j" : "k"), 1000 / keysPerSecond);
}
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const emit0 = api.emitMs;
const bytes0 = (stdout as unknown as FakeTty).bytes;
await sleep(Number(values.seconds) * 1000);
const cpu = process.cpuUsage(cpu0);
const t1 = performance.now();
if (keyTimer) clearInterval(keyTimer);
const emitMs = api.emitMs - emit0;
const bytes = (stdout as unknown as FakeTty).bytes - bytes0;
const memory = process.memoryUsage();
const spaces = getHeapSpaceStatistics().map((space) => ({
  space: space.space_name,
  sizeMb: round(space.space_size / 2 ** 20, 1),
  usedMb: round(space.space_used_size / 2 ** 20, 1),
}));
input.write("q");
await done;
await api.close();

const wallMs = t1 - t0;
const cpuShare = (cpu.user + cpu.system) / 1000 / wallMs;
const facadeShare = emitMs / wallMs;
const inWindow = frames.filter((f) => f.at >= t0 && f.at <= t1);
const frameMs = summarize(inWindow.flatMap((f) => (f.frameMs === undefined ? [] : [f.frameMs])));
const frameCpuMs = summarize(inWindow.flatMap((f) => (f.frameCpuMs === undefined ? [] : [f.frameCpuMs])));
const renderMs = summarize(inWindow.map((f) => f.renderMs));
const mb = (b: number) => round(b / 2 ** 20, 1);

console.log(
  `TUI in-process — ${values.nodes} nodes, ${values.tasks} tasks, ${values.hz} snapshots/s, ${values.view} view, ${values.cols}×${values.rows}, ${keysPerSecond} keys/s`,
);
console.log(
  `${values.seconds} s window: ${inWindow.length} frames (${round(inWindow.length / (wallMs / 1000), 1)}/s), ${round(bytes / 1024 / (wallMs / 1000), 1)} KiB/s to the terminal\n`,
);
console.log(
  table([
    SUMMARY_HEADER,
    summaryRow("change → frame written, wall", frameMs),
    summaryRow("change → frame written, CPU", frameCpuMs),
    summaryRow("Ink layout + output only", renderMs),
  ]),
);
console.log(
  `\nCPU of one core: ${round(cpuShare * 100, 1)} %, synthetic facade ${round(facadeShare * 100, 1)} % → UI ${round((cpuShare - facadeShare) * 100, 1)} % (goal ≤ 15 %: ${verdict(cpuShare - facadeShare <= 0.15)})`,
);
console.log(
  `frame p95 wall ${frameMs.p95} ms, CPU ${frameCpuMs.p95} ms (goal ≤ 10 ms: ${verdict(frameMs.p95 <= 10)})`,
);
console.log(
  `memory at the end: rss ${mb(memory.rss)} MB, heap ${mb(memory.heapUsed)}/${mb(memory.heapTotal)} MB, external ${mb(memory.external)} MB`,
);
console.log(
  `heap spaces (size/used MB): ${spaces
    .filter((x) => x.sizeMb > 0)
    .map((x) => `${x.space} ${x.sizeMb}/${x.usedMb}`)
    .join(", ")}`,
);
emitResult({
  bench: "tui-inprocess",
  nodes: Number(values.nodes),
  tasks: Number(values.tasks),
  hz: Number(values.hz),
  view: values.view,
  keysPerSecond,
  frames: inWindow.length,
  cpuPct: round(cpuShare * 100, 1),
  cpuFacadePct: round(facadeShare * 100, 1),
  cpuUiPct: round((cpuShare - facadeShare) * 100, 1),
  frameMs,
  frameCpuMs,
  inkRenderMs: renderMs,
  rssMb: mb(memory.rss),
  heapSpaces: spaces,
  heapUsedMb: mb(memory.heapUsed),
  heapTotalMb: mb(memory.heapTotal),
  machine: machineInfo(),
});
process.exit(0);
