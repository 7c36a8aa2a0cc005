/**
 * What the home screen derives from each snapshot, timed without React or Ink: the throughput
 * line's counts (`throughputOf`) and the sorted task rows (`selectTaskRows`), over the
 * synthetic facade of tui-load (200 nodes, 10 000 tasks), one or two ticks per snapshot as a
 * busy frame budget skips some. Give it a build's root to compare builds in one loop:
 *
 *   node dist/bench/tools/home-derived-cost.js [BUILD_ROOT] [--snapshots 300]
 */
import { resolve } from "node:path";
import { benchArgsAndPaths } from "../lib.js";

const { values, positionals: paths } = benchArgsAndPaths({ snapshots: { type: "string", default: "300" } });
const root = resolve(paths[0] ?? ".");
const { SyntheticFederation } = (await import(
  `${root}/dist/bench/children/tui-synthetic.js`
)) as typeof import("../children/tui-synthetic.js");
const { throughputOf } = (await import(
  `${root}/dist/source/present/throughput.js`
)) as typeof import("../../source/present/throughput.js");
const { selectTaskRows } = (await import(
  `${root}/dist/source/ui/state/rows.js`
)) as typeof import("../../source/ui/state/rows.js");

const api = new SyntheticFederation({ nodes: 200, tasks: 10_000, hz: 0 });
throughputOf(api.getSnapshot(), Date.now());
selectTaskRows(api.getSnapshot(), "");
const snapshots = Number(values.snapshots);
let counting = 0;
let sorting = 0;
for (let i = 0; i < snapshots; i++) {
  api.tick();
  if (i % 3) api.tick();
  const snapshot = api.getSnapshot();
  let started = performance.now();
  throughputOf(snapshot, Date.now());
  counting += performance.now() - started;
  started = performance.now();
  selectTaskRows(snapshot, "");
  sorting += performance.now() - started;
}
console.log(
  `${root}: per snapshot throughputOf ${(counting / snapshots).toFixed(3)} ms, selectTaskRows ${(sorting / snapshots).toFixed(3)} ms`,
);
