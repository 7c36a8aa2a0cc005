/**
 * Runs every benchmark suite of a tier, each in its own process one after another, and prints
 * one table against the goals (goal, measured, met?). `npm run bench` builds first, then runs this.
 *
 *   node dist/bench/run-all.js [--tier quick|full|soak] [--only route-overhead,status-wall]
 *     [--repeat 1] [--wait-quiet 0] [--quiet-cpu 0.2] [--out results.json]
 *
 * quick (the default) takes a few minutes on 2 cores; full runs every suite at its own defaults;
 * soak runs the long chaos soaks (as root). The suites and their goals are in bench/registry.ts.
 *
 * --wait-quiet S: before each benchmark wait up to S seconds until the machine's CPUs are
 * less than --quiet-cpu busy over 3 s (benchmarks on a shared 2-core machine are noisy);
 * the CPU use and 1-minute load seen at the start of each run are reported either way.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { GOALS } from "./goals.js";
import { benchArgs, benchScript, cpuBusy, machineInfo, round, table } from "./lib.js";
import { SUITES, type Suite, TIERS, type Tier } from "./registry.js";

const values = benchArgs({
  tier: { type: "string", default: "quick" },
  only: { type: "string" },
  repeat: { type: "string", default: "1" },
  "wait-quiet": { type: "string", default: "0" },
  "quiet-cpu": { type: "string", default: "0.2" },
  out: { type: "string" },
});
const tier = values.tier as Tier;
if (!TIERS.includes(tier)) {
  console.error(`unknown tier ${values.tier}; one of ${TIERS.join(", ")}`);
  process.exit(2);
}
const inTier = SUITES.filter((s) => s.args[tier] !== undefined);
const selected: Suite[] = [];
for (const name of values.only?.split(",").map((s) => s.trim()) ?? inTier.map((s) => s.name)) {
  const suite = inTier.find((s) => s.name === name);
  if (!suite) {
    console.error(`no benchmark ${name} in the ${tier} tier; one of ${inTier.map((s) => s.name).join(", ")}`);
    process.exit(2);
  }
  selected.push(suite);
}

async function waitQuiet(): Promise<{ busy: number; load: number }> {
  const deadline = Date.now() + Number(values["wait-quiet"]) * 1000;
  let busy = await cpuBusy();
  while (Date.now() < deadline && !(busy < Number(values["quiet-cpu"]))) busy = await cpuBusy();
  return { busy, load: round(loadavg()[0]!, 2) };
}

let current: ChildProcess | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    // The benchmark cleans up its own children and temp dirs on SIGTERM; then we stop.
    process.exitCode = 130;
    if (current) current.kill("SIGTERM");
    else process.exit(130);
  });
}

/** One suite in its own process: its RESULT line, or the JSON report it wrote to --out. */
async function runSuite(suite: Suite): Promise<Record<string, unknown>> {
  const dir = suite.reportFile ? await mkdtemp(join(tmpdir(), "clawos-bench-report-")) : undefined;
  const report = dir ? join(dir, "report.json") : undefined;
  const args = [benchScript(`suites/${suite.name}`), ...(suite.args[tier] ?? [])];
  if (report) args.push("--out", report);
  try {
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
      current = child;
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        process.stdout.write(d.replace(/^RESULT .*$/gm, "").replace(/\n{3,}/g, "\n\n"));
      });
      child.once("error", reject);
      child.once("close", (code) => {
        current = undefined;
        if (process.exitCode === 130) process.exit(130);
        resolve({ code, out });
      });
    });
    if (report) {
      // A soak exits 1 when it fails; its report says why, and the table shows it.
      const text = await readFile(report, "utf8").catch(() => undefined);
      if (!text) throw new Error(`${suite.name} exited with ${code} and wrote no report`);
      return JSON.parse(text) as Record<string, unknown>;
    }
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (code !== 0 || !line) throw new Error(`${suite.name} exited with ${code} and no RESULT line`);
    return JSON.parse(line.slice("RESULT ".length)) as Record<string, unknown>;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

interface Run {
  name: string;
  run: number;
  cpuBusyAtStart: number;
  loadAtStart: number;
  goal: string;
  measured: string;
  met: boolean | undefined;
  result?: Record<string, unknown>;
  error?: string;
}

const all: Run[] = [];
for (const suite of selected) {
  for (let run = 1; run <= Number(values.repeat); run++) {
    const { busy, load } = await waitQuiet();
    if (process.exitCode) break;
    console.log(
      `\n══ ${suite.name} (${tier}, run ${run}; CPUs ${Math.round(busy * 100)} % busy, 1-min load ${load}) ══\n`,
    );
    const base = { name: suite.name, run, cpuBusyAtStart: busy, loadAtStart: load, goal: suite.goal };
    try {
      const result = await runSuite(suite);
      all.push({ ...base, measured: suite.measured(result), met: suite.met(result), result });
    } catch (error) {
      // One broken suite must not hide the others' numbers.
      const message = error instanceof Error ? error.message : String(error);
      console.error(message);
      all.push({ ...base, measured: `ERROR: ${message}`, met: false, error: message });
    }
  }
}

console.log(`\n══ ${tier} tier against the goals ══\n`);
console.log(
  table([
    ["benchmark", "run", "busy", "load", "goal", "measured", "met?"],
    ...all.map((a) => [
      a.name,
      a.run,
      `${Math.round(a.cpuBusyAtStart * 100)}%`,
      a.loadAtStart,
      a.goal,
      a.measured,
      a.met === undefined ? "?" : a.met ? "MET" : "MISSED",
    ]),
  ]),
);
// Issue 18's table: one row per goal (and per run), its reference from the same run.
const goalRows = GOALS.flatMap((g) => {
  const runs = all.filter((a) => a.name === g.suite);
  if (runs.length === 0) return [[g.what, g.goal, "-", "not run in this tier", "", "", "-"]];
  return runs.map((a) => {
    if (!a.result) return [g.what, g.goal, a.run, `ERROR: ${a.error}`, "", "", "MISSED"];
    try {
      const r = g.read(a.result);
      return [
        g.what,
        g.goal,
        a.run,
        r.measured,
        r.reference ?? "—",
        r.ratio ?? "—",
        r.met ? "MET" : "MISSED",
      ];
    } catch (error) {
      return [g.what, g.goal, a.run, `unreadable result: ${String(error)}`, "", "", "MISSED"];
    }
  });
});
console.log(`\n══ issue 18 goals (${tier} tier) ══\n`);
console.log(
  table([["what", "goal", "run", "measured", "reference, same run", "ratio", "met?"], ...goalRows]),
);
const machine = machineInfo();
console.log(
  `\nmachine: ${machine.nproc} cores, ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.tmpdir} on ${machine.tmpFilesystem}, kernel ${machine.kernel}`,
);
const commit = (() => {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    });
    return dirty.trim() ? `${head} + uncommitted changes` : head;
  } catch {
    return "unknown (not a git checkout)";
  }
})();
console.log(
  `commit ${commit}; 1/5/15-min load at the end ${loadavg()
    .map((l) => round(l, 2))
    .join(" ")}`,
);
if (values.out) {
  await writeFile(values.out, `${JSON.stringify({ tier, commit, machine, runs: all }, null, 2)}\n`);
  console.log(`results written to ${values.out}`);
}
if (all.some((a) => a.error)) process.exitCode = 1;
