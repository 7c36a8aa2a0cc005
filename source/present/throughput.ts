import type { Snapshot, TaskView } from "../core/domain/federation-types.js";

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

// A finished task's time never changes: parse it once per task object.
const finishedAt = new WeakMap<TaskView, number>();

function finishedOf(task: TaskView): number {
  let at = finishedAt.get(task);
  if (at === undefined) {
    at = Date.parse(task.finishedAt ?? "") || 0;
    finishedAt.set(task, at);
  }
  return at;
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
  for (const task of snapshot.tasks) {
    if (task.state !== "completed" && task.state !== "failed") continue;
    const age = now - finishedOf(task);
    if (age < 0 || age > HOUR) continue;
    if (task.state === "failed") failedHour++;
    else {
      doneHour++;
      if (age <= FIVE_MINUTES) done5m++;
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
