/**
 * Does reading the federation cost the same however long it has run? (issue 18: "flat costs")
 *
 * One directory blackboard grows from 10 to 1 000, 10 000 and 100 000 finished tasks (seeded
 * through the driver, one a minute back in time; after each step the hub's coordinator round
 * archives everything that finished over a day ago, as `clawos node run` on the hub does). At
 * each size, with 10 and with 100 nodes in federation.json (2 local stub gateways probed,
 * the rest on other machines with fresh heartbeats), it times:
 *   - `clawos status` and `status --json`, fresh processes, interleaved with `node -e 0`;
 *   - in-process, the read paths the faces use: activeCounts() (every dispatch: the router),
 *     list({finishedLimit: 0}) (the counts alone), list({finishedLimit: 2000}) (the control
 *     center's reload), readNodeStatuses(),
 *     get(newest id) and get(oldest id) (an archived task).
 * Goal: status with 100 nodes and 100 000 archived tasks ≤ 1.2× the same with 10 tasks.
 *
 *   node dist/bench/suites/status-flat.js [--finished 1000,10000,100000] [--nodes 10,100] [--runs 7]
 *     [--profile-dir DIR]   (one more `status` per size and node count under --cpu-prof, into DIR/<finished>-<nodes>/)
 */
import { mkdir, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { blackboardDir, loadConfig } from "../../source/core/infra/config.js";
import {
  BIN,
  benchArgs,
  disableFsync,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  makeHome,
  monoMs,
  round,
  spawnStub,
  summarize,
  table,
  timeProcess,
  verdict,
} from "../lib.js";
import { seedFinishedTasks, seedHeartbeat } from "../seed.js";

const values = benchArgs({
  finished: { type: "string", default: "1000,10000,100000" },
  nodes: { type: "string", default: "10,100" },
  runs: { type: "string", default: "7" },
  /** The reference size the goal compares against. */
  reference: { type: "string", default: "10" },
  "profile-dir": { type: "string" },
});
const SIZES = [Number(values.reference), ...values.finished.split(",").map(Number)];
const NODE_COUNTS = values.nodes.split(",").map(Number);
const RUNS = Number(values.runs);
const MAX_NODES = Math.max(...NODE_COUNTS);

const home = await makeHome("clawos-bench-flat-");
installCleanup(() => home.cleanup());
const main = await spawnStub({ token: "main-secret" });
const alpha = await spawnStub({ token: "alpha-secret" });
await home.writeProfile(null, main.port, "main-secret");
await home.writeProfile("alpha", alpha.port, "alpha-secret");
const remoteIds = Array.from({ length: MAX_NODES - 2 }, (_, i) => `node-${String(i + 1).padStart(3, "0")}`);

async function writeFederation(nodeCount: number): Promise<void> {
  await home.writeFederation({
    version: 1,
    machine: "hub",
    blackboard: { driver: "directory", coordinator: "hub" },
    nodes: [
      { id: "main", machine: "hub", port: main.port, profile: null, token: { profile: true } },
      { id: "alpha", machine: "hub", port: alpha.port, profile: "alpha", token: { profile: true } },
      ...remoteIds
        .slice(0, nodeCount - 2)
        .map((id) => ({ id, machine: `m-${id}`, port: 18789, token: { env: "REMOTE_TOKEN" } })),
    ],
  });
}

await writeFederation(MAX_NODES);
const bb = new DirectoryBlackboard(blackboardDir(await loadConfig(home.clawosHome), home.env));
await bb.init();
for (const id of remoteIds) await seedHeartbeat(bb, id);
// Heartbeats of nodes not in federation.json wait here while fewer nodes are measured.
const statusDir = join(home.blackboard, "node-status");
const parked = join(home.home, "parked-node-status");
await mkdir(parked);

async function switchNodes(count: number): Promise<void> {
  await writeFederation(count);
  const keep = new Set(remoteIds.slice(0, count - 2).map((id) => `${id}.json`));
  for (const name of await readdir(statusDir))
    if (!keep.has(name)) await rename(join(statusDir, name), join(parked, name));
  for (const name of await readdir(parked))
    if (keep.has(name)) await rename(join(parked, name), join(statusDir, name));
}

// Seeding only: the fsyncs protect nothing here and would make 100 000 tasks take minutes.
await disableFsync();

interface Row {
  finished: number;
  nodes: number;
  floorP50: number;
  statusP50: number;
  statusJsonP50: number;
  activeCountsP50: number;
  listCountsP50: number;
  listTuiP50: number;
  nodeStatusesP50: number;
  getNewestP50: number;
  getOldestP50: number;
}

const p50 = (samples: number[]) => summarize(samples).p50;

async function timeIn(fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const t = monoMs();
    await fn();
    if (i > 0) samples.push(monoMs() - t);
  }
  return p50(samples);
}

async function measure(finished: number, nodes: number, newestId: string, oldestId: string): Promise<Row> {
  await switchNodes(nodes);
  const labels = ["floor", "status", "json"] as const;
  const args = { floor: ["-e", "0"], status: [BIN, "status"], json: [BIN, "status", "--json"] };
  const samples = { floor: [] as number[], status: [] as number[], json: [] as number[] };
  for (let round = -1; round < RUNS; round++) {
    for (const label of labels) {
      const r = await timeProcess(args[label], { env: { ...home.env, REMOTE_TOKEN: "x" } });
      if (r.code !== 0) throw new Error(`${args[label].join(" ")} exited ${r.code}:\n${r.stderr}`);
      if (round >= 0) samples[label].push(r.ms);
    }
  }
  if (values["profile-dir"]) {
    const dir = join(values["profile-dir"], `${finished}-${nodes}`);
    const r = await timeProcess(["--cpu-prof", "--cpu-prof-dir", dir, BIN, "status"], {
      env: { ...home.env, REMOTE_TOKEN: "x" },
    });
    if (r.code !== 0) throw new Error(`status --cpu-prof exited ${r.code}:\n${r.stderr}`);
  }
  const reader = new DirectoryBlackboard(home.blackboard);
  await reader.init();
  const row: Row = {
    finished,
    nodes,
    floorP50: p50(samples.floor),
    statusP50: p50(samples.status),
    statusJsonP50: p50(samples.json),
    activeCountsP50: await timeIn(() => reader.activeCounts()),
    listCountsP50: await timeIn(() => reader.list({ finishedLimit: 0 })),
    listTuiP50: await timeIn(() => reader.list({ finishedLimit: 2000 })),
    nodeStatusesP50: await timeIn(() => reader.readNodeStatuses()),
    getNewestP50: await timeIn(() => reader.get(newestId)),
    getOldestP50: await timeIn(() => reader.get(oldestId)),
  };
  await reader.close();
  console.log(
    `${finished} finished, ${nodes} nodes: status p50 ${round(row.statusP50, 1)} ms (node -e 0 ${round(row.floorP50, 1)} ms)`,
  );
  return row;
}

const rows: Row[] = [];
const seedLog: string[] = [];
let seeded = 0;
let oldestId: string | undefined;
const newest = Date.now() - 60_000;
for (const size of SIZES) {
  const t = monoMs();
  const { oldestId: seededOldest } = await seedFinishedTasks(bb, {
    from: seeded,
    to: size,
    nodes: ["main", "alpha", ...remoteIds],
    remote: new Set(remoteIds),
    newest,
  });
  seeded = size;
  oldestId = seededOldest ?? oldestId;
  // A fresh handle: a coordinator archives at most every 10 minutes.
  const hub = new DirectoryBlackboard(home.blackboard);
  await hub.init();
  const notes = await hub.coordinator().recover();
  await hub.close();
  seedLog.push(`${size}: seeded and archived in ${round((monoMs() - t) / 1000, 1)} s (${notes.join("; ")})`);
  const listing = await bb.list({ finishedLimit: 1 });
  const newestId = listing.tasks[0]!.request.id;
  // The oldest task is archived once the board spans more than a day.
  for (const nodes of NODE_COUNTS) rows.push(await measure(size, nodes, newestId, oldestId ?? newestId));
}

await main.stop();
await alpha.stop();
killChildren();
await home.cleanup();

console.log(
  `\nRead paths against history (p50 ms; status: fresh process, ${RUNS} runs interleaved with node -e 0; the rest in-process, warm)\n`,
);
console.log(
  table([
    [
      "finished",
      "nodes",
      "node -e 0",
      "status",
      "status --json",
      "activeCounts (router)",
      "list(0) (counts)",
      "list(2000) TUI",
      "node statuses",
      "get newest",
      "get oldest",
    ],
    ...rows.map((r) => [
      r.finished,
      r.nodes,
      r.floorP50,
      r.statusP50,
      r.statusJsonP50,
      r.activeCountsP50,
      r.listCountsP50,
      r.listTuiP50,
      r.nodeStatusesP50,
      r.getNewestP50,
      r.getOldestP50,
    ]),
  ]),
);
console.log(`\n${seedLog.join("\n")}`);

const goalNodes = Math.max(...NODE_COUNTS);
const reference = rows.find((r) => r.finished === SIZES[0] && r.nodes === goalNodes)!;
const largest = rows.find((r) => r.finished === Math.max(...SIZES) && r.nodes === goalNodes)!;
// Each status run is divided by the node -e 0 of its own rounds, so load drifting between the
// two sizes does not count as a cost of history.
const ratio = round(largest.statusP50 / reference.statusP50, 2);
const floorAdjusted = round(
  largest.statusP50 / largest.floorP50 / (reference.statusP50 / reference.floorP50),
  2,
);
console.log(
  `\ngoal: status with ${goalNodes} nodes, ${largest.finished} archived ≤ 1.2× the same with ${reference.finished}: ${ratio}× (${floorAdjusted}× each against its own node -e 0) ${verdict(ratio <= 1.2)}`,
);
emitResult({
  bench: "status-flat",
  rows,
  seedLog,
  reference: { finished: reference.finished, nodes: goalNodes, statusP50Ms: reference.statusP50 },
  largest: { finished: largest.finished, nodes: goalNodes, statusP50Ms: largest.statusP50 },
  ratio,
  floorAdjustedRatio: floorAdjusted,
  met: ratio <= 1.2,
  machine: machineInfo(),
});
