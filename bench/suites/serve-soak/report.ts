/** The serve soak's verdict: the failures, the JSON report and the tables printed with it. */
import { machineInfo, table } from "../../lib.js";
import type { Evidence } from "./audit.js";
import { opts, TIMING } from "./plan.js";
import type { Proc } from "./procs.js";
import type { RunOutcome } from "./run.js";

/** The normal users' counts, summed over users. */
function userTotals(run: RunOutcome) {
  const { userStats } = run;
  return {
    drops: userStats.reduce((a, u) => a + u.drops.length, 0),
    lockouts: userStats.reduce((a, u) => a + u.lockouts, 0),
    probes: userStats.reduce((a, u) => a + u.keyProbes, 0),
    probesFailed: userStats.reduce((a, u) => a + u.keyProbesFailed.length, 0),
    escapes: userStats.reduce((a, u) => a + u.hostileEscapes, 0),
    longestSilence: Math.max(0, ...userStats.map((u) => u.longestSilenceS)),
  };
}

/** One line per way the soak failed; none is a PASS. */
function failuresOf(run: RunOutcome, evidence: Evidence, server: Proc): string[] {
  const { audit, crashes, decoyChanges, leaks } = evidence;
  const { drops, lockouts, probes, probesFailed, escapes } = userTotals(run);
  const failures: string[] = [];
  if (server.exits.length)
    failures.push(`clawos serve exited ${server.exits.length} time(s) (restarted ${run.serverRestarts})`);
  if (drops) failures.push(`${drops} normal-user session(s) dropped`);
  if (lockouts) failures.push(`${lockouts} normal-user login(s) failed (locked out)`);
  if (probesFailed) failures.push(`${probesFailed} of ${probes} keypresses had no effect`);
  if (escapes) failures.push(`${escapes} planted escape sequence(s) reached a user's terminal`);
  if (audit.lost) failures.push(`${audit.lost} task(s) lost`);
  if (audit.duplicated) failures.push(`${audit.duplicated} task(s) duplicated`);
  if (audit.wrongReplies.length)
    failures.push(`${audit.wrongReplies.length} task(s) with another task's reply`);
  if (crashes.length) failures.push(`${crashes.length} worker/coordinator/gateway exit(s)`);
  if (decoyChanges.length)
    failures.push(`the decoy outside the blackboard changed: ${decoyChanges.length} entr(ies)`);
  if (leaks.length) failures.push(`${leaks.length} file(s) in quarantine/ carry the decoy's contents`);
  if (!run.serverAliveAtEnd && !server.exits.length) failures.push("clawos serve was not running at the end");
  return failures;
}

/** Per client kind: clients, connects, closes by the server and errors by name. */
function clientKinds(run: RunOutcome) {
  return Object.fromEntries(
    Object.entries(
      [...run.userStats, ...run.hostileStats].reduce<
        Record<
          string,
          { clients: number; connects: number; closedByServer: number; errors: Record<string, number> }
        >
      >((acc, s) => {
        acc[s.kind] ??= { clients: 0, connects: 0, closedByServer: 0, errors: {} };
        const a = acc[s.kind]!;
        a.clients++;
        a.connects += s.connects;
        a.closedByServer += s.closedByServer;
        for (const [k, v] of Object.entries(s.errors)) a.errors[k] = (a.errors[k] ?? 0) + v;
        return acc;
      }, {}),
    ),
  );
}

/** The report written by --out and printed in full. */
export function buildReport(run: RunOutcome, evidence: Evidence, server: Proc, settled: boolean) {
  const { audit, crashes, decoyChanges, fates, leaks } = evidence;
  const { userStats } = run;
  const failures = failuresOf(run, evidence, server);
  const { drops, lockouts, probes, probesFailed, escapes, longestSilence } = userTotals(run);
  return {
    verdict: failures.length ? "FAIL" : "PASS",
    failures,
    machine: machineInfo(),
    command: `node ${process.argv.slice(1).join(" ")}`,
    config: {
      minutes: Number(opts.minutes),
      maxSessions: Number(opts["max-sessions"]),
      user: opts.user,
      timing: TIMING,
    },
    clients: clientKinds(run),
    normalUsers: {
      sessionsStayedUp: userStats.filter((u) => !u.drops.length && !u.lockouts).length,
      of: userStats.length,
      drops,
      lockouts,
      keyProbes: probes,
      keyProbesFailed: probesFailed,
      longestSilenceS: longestSilence,
      hostileEscapes: escapes,
      dropDetails: userStats.flatMap((u) => u.drops).slice(0, 10),
      probeFailures: userStats.flatMap((u) => u.keyProbesFailed).slice(0, 5),
    },
    server: {
      exits: server.exits.map((e) => ({
        atS: e.atS,
        code: e.code,
        signal: e.signal,
        // V8's "FATAL ERROR: … heap out of memory" sits above the native stack in the tail.
        why: e.tail.split("\n").find((l) => /FATAL|Error/.test(l)) ?? e.tail.split("\n").at(-2),
      })),
      restarts: run.serverRestarts,
      aliveAtEnd: run.serverAliveAtEnd,
      samples: run.samples,
    },
    tasks: {
      dispatched: audit.dispatched,
      refused: run.refused,
      completed: audit.completed,
      failed: audit.failedWithReason + audit.failedWithoutReason,
      cancelled: audit.cancelled,
      lost: audit.lost,
      duplicated: audit.duplicated,
      orphans: audit.orphans.length,
      settled,
      lostTasks: audit.lostTasks.slice(0, 10),
      duplicatedTasks: audit.duplicatedTasks.slice(0, 10),
      failureReasons: audit.failureReasons,
    },
    plants: {
      total: run.plants.length,
      errors: run.plantErrors.slice(0, 10),
      fates,
      quarantineLeaks: leaks.slice(0, 10),
    },
    decoy: { identical: decoyChanges.length === 0, changes: decoyChanges.slice(0, 20) },
    processExits: crashes.map((c) => ({
      name: c.name,
      atS: c.atS,
      code: c.code,
      signal: c.signal,
      tail: c.tail.split("\n").slice(-6).join("\n"),
    })),
  };
}

/** Three tables (clients, plants, the soak), the JSON report, then each failure and the verdict. */
export function printSummary(report: {
  verdict: string;
  failures: string[];
  server: { samples: { atS: number; rssMiB: number; fds: number }[]; restarts: number };
  tasks: Record<string, unknown>;
  normalUsers: Record<string, unknown>;
  clients: Record<string, { clients: number; connects: number; closedByServer: number }>;
  plants: { fates: Record<string, Record<string, number>> };
  decoy: { identical: boolean };
}): void {
  const s = report.server.samples;
  const at = (q: number) => s[Math.min(s.length - 1, Math.round(q * (s.length - 1)))];
  const fmt = (x?: { rssMiB: number; fds: number; atS: number }) =>
    x ? `${x.rssMiB} MiB / ${x.fds} fds @${x.atS}s` : "-";
  process.stdout.write(
    `\n${table([
      ["client kind", "clients", "connects", "closed by server"],
      ...Object.entries(report.clients).map(([k, v]) => [k, v.clients, v.connects, v.closedByServer]),
    ])}\n\n${table([
      ["planted kind", "what became of it"],
      ...Object.entries(report.plants.fates).map(([k, v]) => [
        k,
        Object.entries(v)
          .map(([f, c]) => `${c}× ${f}`)
          .join(", "),
      ]),
    ])}\n\n${table([
      ["serve soak", "value"],
      ["server RSS / fds: start, middle, end", `${fmt(at(0))}; ${fmt(at(0.5))}; ${fmt(at(1))}`],
      ["server restarts after a crash", report.server.restarts],
      ["normal sessions stayed up", `${report.normalUsers.sessionsStayedUp} of ${report.normalUsers.of}`],
      [
        "keypresses answered",
        `${Number(report.normalUsers.keyProbes) - Number(report.normalUsers.keyProbesFailed)} of ${report.normalUsers.keyProbes}`,
      ],
      ["longest silence on a normal session (s)", Number(report.normalUsers.longestSilenceS)],
      [
        "tasks dispatched / completed / failed",
        `${report.tasks.dispatched} / ${report.tasks.completed} / ${report.tasks.failed}`,
      ],
      ["tasks LOST / DUPLICATED", `${report.tasks.lost} / ${report.tasks.duplicated}`],
      ["decoy byte-identical", String(report.decoy.identical)],
    ])}\n\n${JSON.stringify(report, null, 2)}\n\n`,
  );
  for (const f of report.failures) process.stdout.write(`FAIL: ${f}\n`);
  process.stdout.write(
    `\nserve soak: ${report.verdict}${report.failures.length ? ` (${report.failures.length} failure(s))` : ""}\n`,
  );
}
