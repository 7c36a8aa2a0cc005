/**
 * The soak's verdict and report: what fails the run (lost, duplicated, crossed replies, a crash,
 * an unresponsive TUI, an unclean stop), what only warns, and the table and JSON it prints.
 */
import type { MachineInfo } from "../../lib.js";
import { round, summarize, table } from "../../lib.js";
import type { Audit } from "./audit.js";
import type { ChaosLog } from "./chaos.js";
import type { DispatchLog } from "./dispatch.js";
import {
  CHAOS,
  CHUNK_DELAY_MS,
  DISPATCHERS,
  DURATION_MS,
  HOLD_MS,
  opts,
  SEED,
  SETTLE_MS,
  TIMING,
} from "./plan.js";
import type { Crash, Managed } from "./processes.js";
import type { SmallFs } from "./small-fs.js";

type Stop = { code: number | null; signal: string | null; hung: boolean };

/** Everything a finished soak knows, gathered for the report. */
export interface SoakOutcome {
  source: { commit: string; changedFiles: string[] };
  machine: MachineInfo;
  fs: SmallFs;
  settle: { settled: boolean; ms: number; lastNote: string };
  tui: { ok: boolean; report: Record<string, unknown> };
  nodesAtEnd: unknown;
  stops: Record<string, Stop>;
  crashes: Crash[];
  managed: Managed[];
  loads: number[];
  dispatch: DispatchLog;
  chaos: ChaosLog;
  junkLeft: { path: string; kind: string }[];
  audit: Audit;
}

function verdict(o: SoakOutcome): { failures: string[]; warnings: string[] } {
  const { audit, crashes, junkLeft, fs } = o;
  const settled = o.settle.settled;
  const lastNote = o.settle.lastNote;
  const tuiOk = o.tui.ok;
  const badStops = Object.entries(o.stops).filter(([, s]) => s.code !== 0 || s.hung);
  const failures: string[] = [];
  if (audit.lost > 0) failures.push(`${audit.lost} task(s) lost`);
  if (audit.duplicated > 0) failures.push(`${audit.duplicated} task(s) duplicated`);
  if (crashes.length > 0) failures.push(`${crashes.length} unexpected process exit(s)`);
  if (!tuiOk) failures.push("the TUI did not stay responsive to the end");
  if (badStops.length > 0)
    failures.push(
      `unclean SIGTERM stop: ${badStops.map(([n, s]) => `${n} (${s.hung ? "hung" : `exit ${s.code ?? s.signal}`})`).join(", ")}`,
    );
  const warnings: string[] = [];
  if (!settled) warnings.push(`did not settle within ${SETTLE_MS / 1000} s (${lastNote})`);
  if (audit.wrongReplies.length)
    warnings.push(`${audit.wrongReplies.length} completed task(s) with the wrong reply`);
  if (audit.inconsistencies.length)
    warnings.push(`${audit.inconsistencies.length} file/list inconsistencies`);
  if (audit.orphans.length)
    warnings.push(`${audit.orphans.length} task(s) on the blackboard that no dispatcher was given`);
  if (audit.cancelled) warnings.push(`${audit.cancelled} task(s) cancelled, though nobody cancelled any`);
  if (audit.failedWithoutReason)
    warnings.push(`${audit.failedWithoutReason} failed task(s) without a reason`);
  if (junkLeft.length) warnings.push(`${junkLeft.length} malformed file(s) never quarantined`);
  if (fs.kind === "none") warnings.push(fs.note);
  // Wrong replies mean crossed results: that is a loss too.
  if (audit.wrongReplies.length)
    failures.push(`${audit.wrongReplies.length} completed task(s) carry another task's reply`);

  return { failures, warnings };
}

function processTable(managed: Managed[]) {
  const processes = Object.fromEntries(
    managed.map((m) => [
      m.name,
      {
        starts: m.starts,
        chaosKills: m.kills,
        crashes: m.crashes.length,
        peakRssMiB: round(m.peakRssKiB / 1024, 1),
        ...(m.role === "gateway" ? {} : { log: m.counters }),
      },
    ]),
  );
  const otherLines = new Map<string, number>();
  for (const m of managed)
    for (const [k, v] of m.other)
      otherLines.set(`${m.role}: ${k}`, (otherLines.get(`${m.role}: ${k}`) ?? 0) + v);

  return { processes, otherLines };
}

export function buildReport(o: SoakOutcome) {
  const { failures, warnings } = verdict(o);
  const { processes, otherLines } = processTable(o.managed);
  const { audit, fs, source, machine, crashes, nodesAtEnd, stops, loads } = o;
  const { refused, dispatchMs } = o.dispatch;
  const { workerKills, coordinatorKills, gatewayRestarts, junk, diskEpisodes, events } = o.chaos;
  const junkLeft = o.junkLeft;
  const settled = o.settle.settled;
  const settleMs = o.settle.ms;
  const tuiReport = o.tui.report;
  return {
    verdict: failures.length ? "FAIL" : "PASS",
    failures,
    warnings,
    source,
    command: `node ${process.argv.slice(1).join(" ")}`.replace(`${process.cwd()}/`, ""),
    machine,
    config: {
      durationS: DURATION_MS / 1000,
      seed: SEED,
      dispatchers: DISPATCHERS,
      stubChunkDelayMs: CHUNK_DELAY_MS,
      blackboardFs: fs.note,
      diskFullHoldS: HOLD_MS / 1000,
      tuiHeapMb: opts["tui-heap-mb"] ? Number(opts["tui-heap-mb"]) : null,
      timing: TIMING,
      chaos: CHAOS,
    },
    tasks: {
      dispatched: audit.dispatched,
      completed: audit.completed,
      failedWithReason: audit.failedWithReason,
      failedWithoutReason: audit.failedWithoutReason,
      cancelled: audit.cancelled,
      lost: audit.lost,
      duplicated: audit.duplicated,
      dispatchRefused: refused.length,
      dispatchRefusedWhileDiskFull: refused.filter((r) => r.whileDiskFull).length,
      orphans: audit.orphans.length,
      wrongReplies: audit.wrongReplies.length,
      inconsistencies: audit.inconsistencies.length,
    },
    attempts: audit.attempts,
    failureReasons: audit.failureReasons,
    refusalReasons: countBy(refused.map((r) => r.reason)),
    byPriority: audit.byPriority,
    byTarget: audit.byTarget,
    listCounts: audit.listCounts,
    leftovers: audit.leftovers,
    latencyMs: {
      dispatchCli: summarize(dispatchMs),
      endToEnd: summarize(audit.endToEndMs),
    },
    settle: { settled, ms: settleMs },
    chaos: {
      workerKills,
      coordinatorKills,
      gatewayRestarts,
      malformedDropped: junk.length,
      malformedByKind: countBy(junk.map((j) => j.kind)),
      malformedLeftInInbox: junkLeft.length,
      quarantinedFiles: audit.quarantined,
      diskFull: diskEpisodes,
    },
    tui: tuiReport,
    nodesAtEnd,
    sigtermStops: stops,
    crashes,
    processes,
    loadavg1m: loads.length ? summarize(loads) : undefined,
    otherLogLines: Object.fromEntries([...otherLines].sort((a, b) => b[1] - a[1]).slice(0, 25)),
    lostTasks: audit.lostTasks.slice(0, 50),
    duplicatedTasks: audit.duplicatedTasks.slice(0, 50),
    wrongReplies: audit.wrongReplies.slice(0, 20),
    inconsistencies: audit.inconsistencies.slice(0, 20),
    orphans: audit.orphans.slice(0, 20),
    events,
  };
}

export function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}

export function printReport(
  report: Record<string, unknown> & { tasks: Record<string, number> },
  audit: Audit,
): void {
  const t = report.tasks;
  const chaos = report.chaos as Record<string, unknown> & { diskFull: unknown[] };
  const lat = report.latencyMs as Record<string, { p50: number; p95: number; max: number }>;
  const rows: (string | number)[][] = [
    ["soak result", "value"],
    ["tasks dispatched", t.dispatched!],
    ["  completed", t.completed!],
    ["  failed, with a reason", t.failedWithReason!],
    ["  failed, no reason", t.failedWithoutReason!],
    ["  cancelled", t.cancelled!],
    ["  LOST", t.lost!],
    ["  DUPLICATED", t.duplicated!],
    ["dispatches refused (no id given)", t.dispatchRefused!],
    ["  of them while the disk was full", t.dispatchRefusedWhileDiskFull!],
    ["orphans / wrong replies / inconsistencies", `${t.orphans} / ${t.wrongReplies} / ${t.inconsistencies}`],
    ["worker / coordinator SIGKILLs", `${chaos.workerKills} / ${chaos.coordinatorKills}`],
    ["gateway restarts", chaos.gatewayRestarts as number],
    ["malformed files dropped / left", `${chaos.malformedDropped} / ${chaos.malformedLeftInInbox}`],
    ["disk-full episodes", chaos.diskFull.length],
    ["unexpected process exits", (report.crashes as unknown[]).length],
    ["dispatch CLI p50 / p95 ms", `${lat.dispatchCli?.p50} / ${lat.dispatchCli?.p95}`],
    ["end to end p50 / p95 / max ms", `${lat.endToEnd?.p50} / ${lat.endToEnd?.p95} / ${lat.endToEnd?.max}`],
    [
      "settled",
      `${(report.settle as { settled: boolean }).settled} in ${round((report.settle as { ms: number }).ms / 1000, 1)} s`,
    ],
    ["TUI responsive at the end", String((report.tui as { ok: boolean }).ok)],
    ["verdict", String(report.verdict)],
  ];
  process.stdout.write(`\n${table(rows)}\n\n`);
  if (audit.lostTasks.length)
    process.stdout.write(
      `lost:\n${audit.lostTasks
        .slice(0, 20)
        .map((p) => `  ${p.id}: ${p.why}`)
        .join("\n")}\n`,
    );
  if (audit.duplicatedTasks.length)
    process.stdout.write(
      `duplicated:\n${audit.duplicatedTasks
        .slice(0, 20)
        .map((p) => `  ${p.id}: ${p.why}`)
        .join("\n")}\n`,
    );
  for (const f of report.failures as string[]) process.stdout.write(`FAIL: ${f}\n`);
  for (const w of report.warnings as string[]) process.stdout.write(`warning: ${w}\n`);
  process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n`);
}
