/**
 * Every benchmark suite run-all knows: its tier, its arguments per tier, the goal it is held to,
 * and how to read "measured" and "met" from its RESULT line (or, for the soaks, its --out report).
 *
 * Tiers: quick (a few minutes on 2 cores: the headline goals with fewer samples), full (every
 * suite at its own defaults, as BENCHMARKS.md reports them), soak (the long chaos runs).
 */
import { round } from "./lib.js";

export type Tier = "quick" | "full" | "soak";
export const TIERS: readonly Tier[] = ["quick", "full", "soak"];

type Result = Record<string, unknown>;

export interface Suite {
  /** The script under dist/bench/suites/. */
  name: string;
  goal: string;
  /** Arguments in each tier the suite runs in; a tier it is absent from skips it. */
  args: Partial<Record<Tier, string[]>>;
  /** The suite writes its report to --out FILE instead of a RESULT line. */
  reportFile?: boolean;
  measured(result: Result): string;
  met(result: Result): boolean | undefined;
}

const p = (s: { p50: number; p95: number }) => `p50 ${round(s.p50, 1)} / p95 ${round(s.p95, 1)} ms`;
const metFlag = (r: Result) => (typeof r.met === "boolean" ? r.met : undefined);

export const SUITES: Suite[] = [
  {
    name: "route-overhead",
    goal: "dispatch adds ≤ 2 ms at p50 over a bare streaming call",
    args: { quick: ["--iterations", "100", "--warmup", "20", "--breakdown", "30"], full: [] },
    measured: (r) => `+${r.addedP50Ms} ms p50, +${r.addedP95Ms} ms p95 over bare undici`,
    met: metFlag,
  },
  {
    name: "blackboard-pickup",
    goal: "dispatch→claimed by another process p50 ≤ 50 ms",
    args: { quick: ["--tasks", "60", "--worker-tasks", "30", "--warmup", "5"], full: [] },
    measured: (r) =>
      (r.results as { mode: string; dispatchToClaim: { p50: number; p95: number } }[])
        .map((m) => `${m.mode.split(" ")[0]}: ${p(m.dispatchToClaim)}`)
        .join("; "),
    met: metFlag,
  },
  {
    name: "directory-throughput",
    goal: "≥ 1000 tasks/s, 0 duplicates, 0 lost",
    args: { quick: ["--tasks", "1500"], full: [] },
    measured: (r) =>
      (r.results as { mode: string; tasksPerSecond: number; verification: { ok: boolean } }[])
        .map(
          (m) =>
            `${m.mode} ${m.tasksPerSecond}/s (${m.verification.ok ? "0 dup, 0 lost" : "INTEGRITY FAILURE"})`,
        )
        .join("; "),
    met: metFlag,
  },
  {
    name: "status-wall",
    goal: "`clawos status` p50 ≤ 300 ms with 10 000 finished tasks",
    args: { quick: ["--runs", "3", "--no-diagnose"], full: [] },
    measured: (r) =>
      `status p50 ${round(r.statusP50Ms as number, 1)} ms, --json p50 ${round(r.statusJsonP50Ms as number, 1)} ms`,
    met: metFlag,
  },
  {
    name: "status-flat",
    goal: "status with 100 nodes, 100 000 archived ≤ 1.2× with 10 tasks",
    args: { quick: ["--runs", "5", "--finished", "20000", "--nodes", "100"], full: [] },
    measured: (r) => `${r.ratio}× (${r.floorAdjustedRatio}× each against its own node -e 0)`,
    met: metFlag,
  },
  {
    name: "dispatch-wait",
    goal: "`dispatch --wait` whole process ≤ 3× curl on the same stub",
    args: { quick: ["--runs", "7"], full: [] },
    measured: (r) => `${r.dispatchP50Ms} ms vs curl ${r.curlP50Ms} ms: ${r.ratio}×`,
    met: metFlag,
  },
  {
    name: "tui-first-frame",
    goal: "first frame of `clawos` ≤ 250 ms (2 000 tasks); idle RSS ≤ 80 MB",
    args: { quick: ["--runs", "3", "--tasks", "2000", "--idle-seconds", "10"], full: ["--tasks", "2000"] },
    measured: (r) => `p50 ${round(r.firstFrameP50Ms as number, 1)} ms (worse of empty / ${r.tasks} tasks)`,
    met: metFlag,
  },
  {
    name: "tui-inprocess",
    goal: "UI ≤ 15 % of a core, frame p95 ≤ 10 ms (200 nodes, 10 000 tasks, 10 Hz)",
    args: { quick: ["--seconds", "6", "--warmup", "2"], full: [] },
    measured: (r) => `UI ${r.cpuUiPct} % CPU, frame ${p(r.frameMs as { p50: number; p95: number })}`,
    met: (r) => (r.cpuUiPct as number) <= 15 && (r.frameMs as { p95: number }).p95 <= 10,
  },
  {
    name: "tui-load",
    goal: "real pty: UI ≤ 15 % CPU, frame p95 ≤ 10 ms, key p95 ≤ 40 ms, RSS ≤ 150 MB",
    args: { quick: ["--window", "8", "--keys", "30"], full: [] },
    measured: (r) =>
      `UI ${r.cpuUiPct} % CPU, frame p95 ${(r.frameMs as { p95: number }).p95} ms, key p95 ${(r.keypressMs as { p95: number }).p95} ms, peak ${r.peakRssMb} MB`,
    met: metFlag,
  },
  {
    name: "nats-vs-directory",
    goal: "NATS ≥ 5000 tasks/s at its best lane count",
    args: {
      quick: ["--tasks", "3000", "--lanes", "4", "--pickups", "50", "--drivers", "nats,bare"],
      full: ["--drivers", "directory,nats,bare,bare-fenced"],
    },
    measured: (r) => `NATS best ${(r.goal as { best: number }).best} tasks/s`,
    met: (r) => (r.goal as { met: boolean }).met,
  },
  {
    name: "ssh-bench",
    goal: "P0 over SSH ≤ 300 ms, key→screen ≤ 40 ms, ≤ 2 MB per session",
    args: { quick: [], full: [] },
    measured: (r) =>
      `P0 cold ${p(r.p0Cold as { p50: number; p95: number })}, key ${p(r.keypress as { p50: number; p95: number })}, ${round(r.perSessionMb as number, 2)} MB/session`,
    met: (r) =>
      (r.p0Cold as { p50: number }).p50 <= 300 &&
      (r.keypress as { p50: number }).p50 <= 40 &&
      (r.perSessionMb as number) <= 2,
  },
  {
    name: "soak",
    goal: "chaos soak: 0 lost, 0 duplicated, no crash, TUI answers at the end",
    args: { soak: [] },
    reportFile: true,
    measured: (r) => {
      const t = r.tasks as Record<string, number>;
      return `${t.dispatched} dispatched, ${t.completed} completed, ${t.lost} lost, ${t.duplicated} duplicated`;
    },
    met: (r) => r.verdict === "PASS",
  },
  {
    name: "serve-soak",
    goal: "`clawos serve` under attack: every check passes",
    args: { soak: [] },
    reportFile: true,
    measured: (r) => `${(r.failures as unknown[]).length} failure(s)`,
    met: (r) => r.verdict === "PASS",
  },
];
