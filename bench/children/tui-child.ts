/**
 * The process under test for bench/suites/tui-load.ts: the real `runTui` on this process's
 * stdin/stdout (a pseudo-terminal the parent owns) over a SyntheticFederation.
 *
 *   node dist/bench/children/tui-child.js --nodes 200 --tasks 10000 --hz 10 --stats FILE [--view tasks|nodes]
 *
 * Every frame Ink writes is recorded (epoch ms, Ink's render time, and the whole
 * change → frame time); when the user quits, the records, RSS samples, CPU used and
 * the synthetic facade's own cost go to FILE as JSON.
 */
import { writeFileSync } from "node:fs";
import { restartWithCompactHeap } from "../../source/long-running-heap.js";
import { benchArgs } from "../lib.js";

// As `clawos tui` does (source/bin.ts), unless --node-flags gave its own.
restartWithCompactHeap();
const { runTui } = await (await import("../../source/ui/load-tui.js")).loadTui();

import { SyntheticFederation } from "./tui-synthetic.js";

const values = benchArgs({
  nodes: { type: "string", default: "200" },
  tasks: { type: "string", default: "10000" },
  hz: { type: "string", default: "10" },
  stats: { type: "string" },
});

const api = new SyntheticFederation({
  nodes: Number(values.nodes),
  tasks: Number(values.tasks),
  hz: Number(values.hz),
});
const frames: { at: number; renderMs: number; frameMs?: number; frameCpuMs?: number }[] = [];
const rss: { at: number; rss: number }[] = [];
const origin = performance.timeOrigin;
const sampler = setInterval(() => rss.push({ at: Date.now(), rss: process.memoryUsage().rss }), 250);
sampler.unref();

api.start();
await runTui(api, {
  stdin: process.stdin,
  stdout: process.stdout,
  title: "ClawOS Federation (bench)",
  onRender: ({ renderTime, frameTime, frameCpuTime }) => {
    frames.push({
      at: origin + performance.now(),
      renderMs: renderTime,
      ...(frameTime === undefined ? {} : { frameMs: frameTime }),
      ...(frameCpuTime === undefined ? {} : { frameCpuMs: frameCpuTime }),
    });
  },
});
api.stop();
clearInterval(sampler);
// Rows Ink drew and rows it took from the memo (source/ui/ink-output.ts); absent in older builds.
const inkRows = await import("../../source/ui/ink-output.js").then(
  (m) => m.rowStats,
  () => undefined,
);
// With --expose-gc (tui-load --gc-at-quit): what is live, not what awaits collection.
const beforeGc = process.memoryUsage();
(globalThis as { gc?: () => void }).gc?.();
if (values.stats) {
  writeFileSync(
    values.stats,
    JSON.stringify({
      frames,
      rss,
      cpu: process.cpuUsage(),
      uptimeMs: process.uptime() * 1000,
      emitMs: api.emitMs,
      ticks: api.ticks,
      peakRss: process.resourceUsage().maxRSS * 1024,
      memory: beforeGc,
      memoryAfterGc: process.memoryUsage(),
      inkRows,
    }),
  );
}
await api.close();
process.exit(0);
