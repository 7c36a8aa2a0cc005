/**
 * Benchmark 4 — `clawos status` wall time with 10 000 finished tasks on the blackboard.
 *
 * A federation like the seed's: main and alpha on this machine (two stub gateway processes,
 * which status probes), macbook-air on another machine (a heartbeat 3 minutes old), and
 * cloud-node planned. The blackboard is seeded through DirectoryBlackboard itself
 * (enqueueClaimed + complete, so the on-disk format is exactly the driver's), with
 * 85 % completed, 10 % failed and 5 % cancelled tasks spread over the last week.
 *
 * Each measurement is a fresh process: `node dist/source/bin.js status` (and `status --json`),
 * timed from spawn to exit; commands are interleaved, one warm-up round first. For scale the
 * same commands are timed on the empty blackboard before seeding, plus `node -e 0` and
 * `clawos --version` (process start and module loading alone). Goal: p50 ≤ 300 ms.
 *
 *   node dist/bench/suites/status-wall.js [--tasks 10000] [--runs 10] [--no-diagnose] [--profile-dir DIR]
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { FederationCore } from "../../source/core/federation/federation.js";
import { blackboardDir, loadConfig } from "../../source/core/infra/config.js";
import {
  BIN,
  benchArgs,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  makeHome,
  monoMs,
  round,
  SUMMARY_HEADER,
  type Summary,
  spawnStub,
  summarize,
  summaryRow,
  table,
  timeProcess,
  verdict,
  writeFourNodeFederation,
} from "../lib.js";
import { seedFinishedTasks, seedHeartbeat } from "../seed.js";

const values = benchArgs(
  {
    tasks: { type: "string", default: "10000" },
    runs: { type: "string", default: "10" },
    concurrency: { type: "string", default: "16" },
    /** Also time module imports alone and NODE_COMPILE_CACHE, and list() in-process (--no-diagnose: skip). */
    diagnose: { type: "boolean", default: true },
    /** One extra `status` run with --cpu-prof writing here, after the timed runs. */
    "profile-dir": { type: "string" },
  },
  true,
);
const CLI_MODULE = fileURLToPath(new URL("../../source/cli/index.js", import.meta.url));
const TASKS = Number(values.tasks);
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);

const home = await makeHome("clawos-bench-status-");
installCleanup(() => home.cleanup());
const main = await spawnStub({ token: "main-secret" });
const alpha = await spawnStub({ token: "alpha-secret" });
await writeFourNodeFederation(home, main.port, alpha.port);
const loaded = await loadConfig(home.clawosHome);
const bb = new DirectoryBlackboard(blackboardDir(loaded, home.env));
await bb.init();
await seedHeartbeat(bb, "macbook-air", 3 * 60_000);

const commands: { label: string; args: string[] }[] = [
  { label: "node -e 0 (process start only)", args: ["-e", "0"] },
  { label: "clawos --version (CLI module load)", args: [BIN, "--version"] },
  { label: "clawos status", args: [BIN, "status"] },
  { label: "clawos status --json", args: [BIN, "status", "--json"] },
];

async function timeAll(
  phase: string,
  commands: { label: string; args: string[]; env?: NodeJS.ProcessEnv }[],
): Promise<Record<string, Summary>> {
  const samples = new Map<string, number[]>(commands.map((c) => [c.label, []]));
  for (let round = -1; round < RUNS; round++) {
    for (const c of commands) {
      const r = await timeProcess(c.args, { env: c.env ?? home.env });
      if (r.code !== 0) throw new Error(`${c.label} exited ${r.code} (${phase}):\n${r.stderr}`);
      if (round >= 0) samples.get(c.label)!.push(r.ms);
    }
  }
  return Object.fromEntries([...samples].map(([k, v]) => [k, summarize(v)]));
}

const empty = await timeAll("empty blackboard", commands);

// ── seed through the driver ────────────────────────────────────────────────────
const seedStart = monoMs();
await seedFinishedTasks(bb, {
  from: 0,
  to: TASKS,
  nodes: ["main", "alpha", "macbook-air"],
  remote: new Set(["macbook-air"]),
  concurrency: CONCURRENCY,
});
const seedSeconds = round((monoMs() - seedStart) / 1000, 2);

// Check the seeded board through the real CLI before timing it.
const check = await timeProcess([BIN, "status", "--json"], { env: home.env });
const counts = (JSON.parse(check.stdout) as { counts: Record<string, number> }).counts;
const finished = (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0);
if (finished !== TASKS) throw new Error(`status --json counts ${JSON.stringify(counts)}, expected ${TASKS}`);

const seeded = await timeAll(`${TASKS} finished tasks`, commands.slice(2));

// The steady state of a federation whose hub runs `clawos node run`: its coordinator round
// archives tasks that finished over a day ago (about 6/7 of this week-long board). Same driver call.
const archiveNotes = await bb.coordinator().recover();
const checkArchived = await timeProcess([BIN, "status", "--json"], { env: home.env });
const archivedCounts = (JSON.parse(checkArchived.stdout) as { counts: Record<string, number> }).counts;
if (JSON.stringify(archivedCounts) !== JSON.stringify(counts))
  throw new Error(
    `after archiving, status --json counts ${JSON.stringify(archivedCounts)}, expected ${JSON.stringify(counts)}`,
  );
const archived = await timeAll(`${TASKS} finished tasks, archived`, [commands[0]!, ...commands.slice(2)]);

// ── diagnosis: where a fresh `status` spends its time ───────────────────────────
let diagnosis: Record<string, Summary> | undefined;
if (values.diagnose) {
  const nm = (pkg: string) => fileURLToPath(import.meta.resolve(pkg));
  const imp = (what: string) => ["--input-type=module", "-e", `await import(${JSON.stringify(what)})`];
  const cacheEnv = { ...home.env, NODE_COMPILE_CACHE: join(home.home, "node-compile-cache") };
  diagnosis = await timeAll("diagnosis", [
    { label: "node -e 0", args: ["-e", "0"] },
    { label: "import undici", args: imp(nm("undici")) },
    { label: "import zod", args: imp(nm("zod")) },
    { label: "import ssh2", args: imp(nm("ssh2")) },
    { label: "import string-width", args: imp(nm("string-width")) },
    { label: "import commander", args: imp(nm("commander")) },
    { label: "import node:http", args: imp("node:http") },
    {
      label: "built-in fetch, first request (refused)",
      args: ["-e", "fetch('http://127.0.0.1:9/').catch(() => {})"],
    },
    { label: "import dist/source/cli/index.js (whole CLI graph)", args: imp(CLI_MODULE) },
    { label: "clawos status", args: [BIN, "status"] },
    { label: "clawos status, NODE_COMPILE_CACHE warm", args: [BIN, "status"], env: cacheEnv },
  ]);
  // In-process (warm JIT and page cache): the blackboard work alone.
  const core = await FederationCore.open(home.clawosHome, { env: home.env });
  const steps: Record<string, number[]> = {
    "in-process list({finishedLimit: 0}) (every dispatch pays it)": [],
    "in-process list({finishedLimit: 20})": [],
    "in-process list({finishedLimit: 200})": [],
    "in-process readNodeStatuses()": [],
    "in-process nodeViews(probe always)": [],
  };
  for (let i = 0; i < RUNS; i++) {
    for (const [label, fn] of [
      [
        "in-process list({finishedLimit: 0}) (every dispatch pays it)",
        () => core.blackboard.list({ finishedLimit: 0 }),
      ],
      ["in-process list({finishedLimit: 20})", () => core.blackboard.list({ finishedLimit: 20 })],
      ["in-process list({finishedLimit: 200})", () => core.blackboard.list({ finishedLimit: 200 })],
      ["in-process readNodeStatuses()", () => core.blackboard.readNodeStatuses()],
      [
        "in-process nodeViews(probe always)",
        () => core.nodeViews({ probe: "always", heartbeats: [], inFlight: new Map() }),
      ],
    ] as const) {
      const t = performance.now();
      await fn();
      steps[label]!.push(performance.now() - t);
    }
  }
  await core.close();
  for (const [k, v] of Object.entries(steps)) diagnosis[k] = summarize(v);
}

let profiled: string | undefined;
if (values["profile-dir"]) {
  const r = await timeProcess(["--cpu-prof", "--cpu-prof-dir", values["profile-dir"], BIN, "status"], {
    env: home.env,
  });
  profiled = `status with --cpu-prof: ${round(r.ms, 1)} ms wall; profile in ${values["profile-dir"]}`;
}

await main.stop();
await alpha.stop();
killChildren();
await home.cleanup();

const statusP50 = archived["clawos status"]!.p50;
const jsonP50 = archived["clawos status --json"]!.p50;
console.log(
  `clawos status wall time — fresh process per run, ${RUNS} runs after 1 warm-up round, commands interleaved`,
);
console.log(
  `(4 nodes: 2 localhost stub gateways probed, 1 remote with heartbeat, 1 planned; seeded ${TASKS} finished tasks through the driver in ${seedSeconds} s: ${JSON.stringify(counts)})\n`,
);
console.log(
  table([
    SUMMARY_HEADER,
    ...commands.map((c) => summaryRow(`${c.label} — empty board`, empty[c.label]!)),
    ...commands.slice(2).map((c) => summaryRow(`${c.label} — ${TASKS} finished`, seeded[c.label]!)),
    ...commands
      .slice(2)
      .map((c) => summaryRow(`${c.label} — ${TASKS} finished, hub archived`, archived[c.label]!)),
  ]),
);
console.log(`
hub coordinator round: ${archiveNotes.join("; ") || "nothing archived"}`);
if (diagnosis) {
  console.log(`\nDiagnosis (${RUNS} runs each, fresh processes unless in-process):\n`);
  console.log(table([SUMMARY_HEADER, ...Object.entries(diagnosis).map(([k, v]) => summaryRow(k, v))]));
}
console.log(
  `\ngoal p50 ≤ 300 ms (board archived by the hub): status ${round(statusP50, 1)} ms ${verdict(statusP50 <= 300)}, status --json ${round(jsonP50, 1)} ms ${verdict(jsonP50 <= 300)}`,
);
if (profiled) console.log(profiled);
emitResult({
  bench: "status-wall",
  goal: "`clawos status` p50 ≤ 300 ms with 10 000 finished tasks",
  tasks: TASKS,
  runs: RUNS,
  seedSeconds,
  counts,
  empty,
  seeded: Object.fromEntries(commands.map((c) => [c.label, seeded[c.label] ?? empty[c.label]])),
  archived: Object.fromEntries(commands.map((c) => [c.label, archived[c.label] ?? empty[c.label]])),
  archiveNotes,
  diagnosis,
  statusP50Ms: statusP50,
  // Issue 18: status (2 local nodes probed) against the process floor, interleaved in one loop.
  floorP50Ms: empty["node -e 0 (process start only)"]!.p50,
  emptyStatusP50Ms: empty["clawos status"]!.p50,
  floorRatio: round(empty["clawos status"]!.p50 / empty["node -e 0 (process start only)"]!.p50, 2),
  archivedFloorRatio: round(statusP50 / archived["node -e 0 (process start only)"]!.p50, 2),
  statusJsonP50Ms: jsonP50,
  met: statusP50 <= 300 && jsonP50 <= 300,
  machine: machineInfo(),
});
