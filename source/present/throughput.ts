import type { Snapshot } from "../core/domain/federation-types.js";

const FIVE_MINUTES = 5 * 60_000;
const HOUR = 60 * 60_000;

export interface Throughput {
  /** Tasks that completed in the last five minutes, and in the last hour. */
  done5m: number;
  doneHour: number;
  /** Tasks that failed for good in the last hour. */
  failedHour: number;
  running: number;
  /** Pending or claimed: not running yet. */
  waiting: number;
}

// The snapshot is new ten times a second and holds up to 10 000 tasks: no parsing per task.
// Times written by toISOString (every writer here uses it) order as strings, so a
// finish time of that shape is compared with the cut-offs as text; any other is parsed.
function isoShaped(at: string): boolean {
  return at.length === 24 && at.charCodeAt(23) === 90 && at.charCodeAt(10) === 84 && at.charCodeAt(19) === 46;
}

/** 0: older than `hour`; 1: within the hour; 2: within five minutes (as ISO strings). */
function recency(finishedAt: string | undefined, hour: string, fiveMinutes: string, now: number): number {
  if (finishedAt === undefined) return 0;
  if (isoShaped(finishedAt)) {
    if (finishedAt < hour) return 0;
    return finishedAt >= fiveMinutes ? 2 : 1;
  }
  const age = now - Date.parse(finishedAt);
  if (!(age <= HOUR)) return 0;
  return age <= FIVE_MINUTES ? 2 : 1;
}

/** Counted once per snapshot and clock second: the home screen asks on every frame. */
const cache = new WeakMap<Snapshot, { second: number; value: Throughput }>();

/** What the federation got done lately and what is in flight, from the snapshot alone. */
export function throughputOf(snapshot: Snapshot, now: number): Throughput {
  const second = Math.floor(now / 1000);
  const hit = cache.get(snapshot);
  if (hit && hit.second === second) return hit.value;
  let done5m = 0;
  let doneHour = 0;
  let failedHour = 0;
  const hour = new Date(now - HOUR).toISOString();
  const fiveMinutes = new Date(now - FIVE_MINUTES).toISOString();
  for (const task of snapshot.tasks) {
    const state = task.state;
    if (state !== "completed" && state !== "failed") continue;
    const recent = recency(task.finishedAt, hour, fiveMinutes, now);
    if (recent === 0) continue;
    if (state === "failed") failedHour++;
    else {
      doneHour++;
      if (recent === 2) done5m++;
    }
  }
  const counts = snapshot.counts;
  const value: Throughput = {
    done5m,
    doneHour,
    failedHour,
    running: counts.running ?? 0,
    waiting: (counts.pending ?? 0) + (counts.claimed ?? 0),
  };
  cache.set(snapshot, { second, value });
  return value;
}

/** 950, 12.3k, 4.1M: a count in at most five characters. */
export function compactCount(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 1 : 0)}M`;
}

/**
 * The throughput as phrases, most telling first (the line is cut at the right).
 * `tokensToday` is the federation's usage when the snapshot carries it.
 */
export function throughputParts(t: Throughput, tokensToday?: number): string[] {
  return [
    `${t.done5m} done in 5 min`,
    `${t.doneHour} in 1 h`,
    `${t.running} running`,
    `${t.waiting} waiting`,
    ...(t.failedHour > 0 ? [`${t.failedHour} failed in 1 h`] : []),
    ...(tokensToday !== undefined ? [`${compactCount(tokensToday)} tokens today`] : []),
  ];
}
