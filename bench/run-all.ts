/**
 * Runs every benchmark, each in its own process one after another, and prints a summary
 * against the goals. `npm run bench` builds first, then runs this.
 *
 *   node dist/bench/run-all.js [--only route-overhead,blackboard-pickup,directory-throughput,status-wall]
 *     [--repeat 1] [--wait-quiet 0] [--quiet-cpu 0.2] [--out results.json]
 *
 * --wait-quiet S: before each benchmark wait up to S seconds until the machine's CPUs are
 * less than --quiet-cpu busy over 3 s (benchmarks on a shared 2-core machine are noisy);
 * the CPU use and 1-minute load seen at the start of each run are reported either way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { benchScript, cpuBusy, machineInfo, round, table } from "./lib.js";

const BENCHES = ["route-overhead", "blackboard-pickup", "directory-throughput", "status-wall"] as const;

const { values } = parseArgs({
  options: {
    only: { type: "string", default: BENCHES.join(",") },
    repeat: { type: "string", default: "1" },
    "wait-quiet": { type: "string", default: "0" },
    "quiet-cpu": { type: "string", default: "0.2" },
    out: { type: "string" },
  },
});
const selected = values.only.split(",").map((s) => s.trim());
for (const name of selected) {
  if (!(BENCHES as readonly string[]).includes(name)) {
    console.error(`unknown benchmark ${name}; one of ${BENCHES.join(", ")}`);
    process.exit(2);
  }
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

function runBench(name: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [benchScript(`suites/${name}`)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
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
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || !line) reject(new Error(`${name} exited with ${code} and no RESULT line`));
      else resolve(JSON.parse(line.slice("RESULT ".length)) as Record<string, unknown>);
    });
  });
}

function headline(result: Record<string, unknown>): string {
  switch (result.bench) {
    case "route-overhead":
      return `+${result.addedP50Ms} ms p50, +${result.addedP95Ms} ms p95 over bare undici`;
    case "blackboard-pickup": {
      const modes = result.results as {
        mode: string;
        dispatchToClaim: { p50: number; p95: number; p99: number };
      }[];
      return modes
        .map(
          (m) =>
            `${m.mode.split(" ")[0]}: p50 ${round(m.dispatchToClaim.p50, 1)} / p95 ${round(m.dispatchToClaim.p95, 1)} / p99 ${round(m.dispatchToClaim.p99, 1)} ms`,
        )
        .join("; ");
    }
    case "directory-throughput": {
      const modes = result.results as {
        mode: string;
        tasksPerSecond: number;
        verification: { ok: boolean };
      }[];
      return modes
        .map(
          (m) =>
            `${m.mode} ${m.tasksPerSecond} tasks/s (${m.verification.ok ? "0 dup, 0 lost" : "INTEGRITY FAILURE"})`,
        )
        .join("; ");
    }
    case "status-wall":
      return `status p50 ${round(result.statusP50Ms as number, 1)} ms, --json p50 ${round(result.statusJsonP50Ms as number, 1)} ms`;
    default:
      return "";
  }
}

const all: {
  name: string;
  run: number;
  cpuBusyAtStart: number;
  loadAtStart: number;
  result: Record<string, unknown>;
}[] = [];
for (const name of selected) {
  for (let run = 1; run <= Number(values.repeat); run++) {
    const { busy, load } = await waitQuiet();
    if (process.exitCode) break;
    console.log(`\n══ ${name} (run ${run}; CPUs ${Math.round(busy * 100)} % busy, 1-min load ${load}) ══\n`);
    all.push({ name, run, cpuBusyAtStart: busy, loadAtStart: load, result: await runBench(name) });
  }
}

console.log("\n══ Summary ══\n");
console.log(
  table([
    ["benchmark", "run", "busy", "load", "goal", "result", "measured"],
    ...all.map((a) => [
      a.name,
      a.run,
      `${Math.round(a.cpuBusyAtStart * 100)}%`,
      a.loadAtStart,
      String(a.result.goal ?? ""),
      a.result.met ? "MET" : "MISSED",
      headline(a.result),
    ]),
  ]),
);
const machine = machineInfo();
console.log(
  `\nmachine: ${machine.nproc} cores, ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.tmpdir} on ${machine.tmpFilesystem}, kernel ${machine.kernel}`,
);
if (values.out) {
  await writeFile(values.out, `${JSON.stringify({ machine, runs: all }, null, 2)}\n`);
  console.log(`results written to ${values.out}`);
}
