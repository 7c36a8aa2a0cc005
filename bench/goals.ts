/**
 * Issue 18's goal table, row by row: which suite measures it, and how to read from that
 * suite's RESULT the measured figure, the reference measured in the same run, their ratio
 * and whether the goal is met. run-all prints every row, "not run" for a suite it skipped.
 */
import { round } from "./lib.js";

type Result = Record<string, unknown>;

export interface GoalReading {
  measured: string;
  /** The reference from the same run, when the goal has one. */
  reference?: string;
  /** measured ÷ reference (or the difference, for the route), as the goal states it. */
  ratio?: string;
  met: boolean;
}

export interface Goal {
  what: string;
  goal: string;
  suite: string;
  read(result: Result): GoalReading;
}

const ms = (n: number) => `${round(n, 1)} ms`;
type P = { p50: number; p95: number };

export const GOALS: Goal[] = [
  {
    what: "`clawos status`, 2 online local nodes",
    goal: "≤ 2.5× node -e 0",
    suite: "status-wall",
    read: (r) => ({
      measured: `p50 ${ms(r.emptyStatusP50Ms as number)}`,
      reference: `node -e 0 p50 ${ms(r.floorP50Ms as number)}`,
      ratio: `${r.floorRatio}×`,
      met: (r.floorRatio as number) <= 2.5,
    }),
  },
  {
    what: "`clawos status`, 100 nodes, 100 000 archived tasks",
    goal: "≤ 1.2× the same with 10 tasks",
    suite: "status-flat",
    read: (r) => {
      const big = r.largest as { finished: number; nodes: number; statusP50Ms: number };
      const ref = r.reference as { finished: number; statusP50Ms: number };
      return {
        measured: `p50 ${ms(big.statusP50Ms)} (${big.finished} tasks, ${big.nodes} nodes)`,
        reference: `p50 ${ms(ref.statusP50Ms)} (${ref.finished} tasks)`,
        ratio: `${r.ratio}×`,
        met: (r.ratio as number) <= 1.2,
      };
    },
  },
  {
    what: "`clawos dispatch --wait`, local node, whole process",
    goal: "≤ 3× curl",
    suite: "dispatch-wait",
    read: (r) => ({
      measured: `p50 ${ms(r.dispatchP50Ms as number)}`,
      reference: `curl p50 ${ms(r.curlP50Ms as number)}`,
      ratio: `${r.ratio}× (${r.delayedRatio}× with ${r.delayMs} ms between deltas)`,
      met: (r.ratio as number) <= 3,
    }),
  },
  {
    what: "localhost route inside a process",
    goal: "≤ +0.8 ms p50 over bare undici",
    suite: "route-overhead",
    read: (r) => {
      const stats = r.stats as Record<string, P>;
      return {
        measured: `dispatch p50 ${ms(stats.dispatch?.p50 ?? Number.NaN)}`,
        reference: `bare undici p50 ${ms(stats["bare-undici"]?.p50 ?? Number.NaN)}`,
        ratio: `+${r.addedP50Ms} ms`,
        met: (r.addedP50Ms as number) <= 0.8,
      };
    },
  },
  {
    what: "NATS driver, 4 workers",
    goal: "≥ 0.9× bare JetStream work queue",
    suite: "nats-vs-directory",
    read: (r) => {
      const bare = r.bare as { best: number; ratio: number; clean: boolean } | undefined;
      const best = (r.goal as { best: number }).best;
      if (!bare) return { measured: `${best} tasks/s`, reference: "bare not run", met: false };
      return {
        measured: `${best} tasks/s${bare.clean ? "" : " (INTEGRITY FAILURE)"}`,
        reference: `bare ${bare.best} tasks/s`,
        ratio: `${bare.ratio}×`,
        met: bare.ratio >= 0.9 && bare.clean,
      };
    },
  },
  {
    what: "directory driver, 4 workers, drain",
    goal: "≥ 2 500 tasks/s, 0 dup, 0 lost",
    suite: "directory-throughput",
    read: (r) => {
      const drain = (
        r.results as { mode: string; tasksPerSecond: number; verification: { ok: boolean } }[]
      ).find((m) => m.mode === "drain");
      if (!drain) return { measured: "drain not run", met: false };
      return {
        measured: `${drain.tasksPerSecond} tasks/s, ${drain.verification.ok ? "0 dup, 0 lost" : "INTEGRITY FAILURE"}`,
        met: drain.tasksPerSecond >= 2500 && drain.verification.ok,
      };
    },
  },
  {
    what: "control center idle RSS (3 nodes)",
    goal: "≤ 80 MB",
    suite: "tui-first-frame",
    // The goal is absolute; the one-line Ink app beside it shows what Ink itself holds.
    read: (r) => ({
      measured: `${r.idleRssMb} MB after ${r.idleSeconds} s (peak ${r.idlePeakMb} MB)`,
      ...(r.referenceIdleRssMb !== undefined
        ? {
            reference: `one-line Ink app ${r.referenceIdleRssMb} MB`,
            ratio: `${round((r.idleRssMb as number) / (r.referenceIdleRssMb as number), 2)}×`,
          }
        : {}),
      met: (r.idleRssMb as number) <= 80,
    }),
  },
  {
    what: "control center, 200 nodes, 10 000 tasks, 10 updates/s",
    goal: "RSS ≤ 110 MB, frame p95 ≤ 8 ms, CPU ≤ 8 %",
    suite: "tui-load",
    read: (r) => {
      const frame = r.frameMs as P;
      return {
        measured: `peak RSS ${r.peakRssMb} MB, frame p95 ${ms(frame.p95)}, UI CPU ${r.cpuUiPct} % (process ${r.cpuProcessPct} %)`,
        met: (r.peakRssMb as number) <= 110 && frame.p95 <= 8 && (r.cpuUiPct as number) <= 8,
      };
    },
  },
  {
    what: "control center first frame, 2 000 tasks",
    goal: "≤ 250 ms",
    suite: "tui-first-frame",
    read: (r) => ({
      measured: `p50 ${ms(r.firstFrameP50Ms as number)}`,
      ...(r.referenceFirstFrameP50Ms !== undefined
        ? {
            reference: `one-line Ink app p50 ${ms(r.referenceFirstFrameP50Ms as number)}`,
            ratio: `${round((r.firstFrameP50Ms as number) / (r.referenceFirstFrameP50Ms as number), 2)}×`,
          }
        : {}),
      met: (r.firstFrameP50Ms as number) <= 250,
    }),
  },
  {
    what: "`clawos serve`, 50 sessions",
    goal: "≤ 1 MB per session, keypress p95 ≤ 30 ms",
    suite: "ssh-bench",
    read: (r) => {
      const key = r.keypress as P;
      return {
        measured: `${round(r.perSessionMb as number, 2)} MB/session, keypress p95 ${ms(key.p95)}`,
        met: (r.perSessionMb as number) <= 1 && key.p95 <= 30,
      };
    },
  },
];
