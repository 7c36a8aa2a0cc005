import type { Snapshot, TaskView } from "../core/domain/federation-types.js";
import { diffByIdentity } from "./list-diff.js";

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

/** More changes than this between two lists, and the finish times are counted afresh. */
const DIFF_LIMIT = (n: number) => Math.max(64, n >>> 4);

function finishOf(task: TaskView): number | undefined {
  if ((task.state !== "completed" && task.state !== "failed") || task.finishedAt === undefined)
    return undefined;
  const at = Date.parse(task.finishedAt);
  return Number.isNaN(at) ? undefined : at;
}

/** First index of `sorted` (ascending) whose value is not below `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The finish times (ms, ascending) of a task list's completed and failed tasks that finished
 * within the hour, kept from snapshot to snapshot: a new list is brought up to date from the
 * tasks that changed (`diffByIdentity`), not walked. Times only age out, so what finished
 * before the last look's hour never counts again; a clock that went back starts afresh.
 */
class RecentFinishes {
  readonly completed: number[] = [];
  readonly failed: number[] = [];

  private constructor(
    public tasks: readonly TaskView[],
    public lookedAt: number,
  ) {}

  static of(tasks: readonly TaskView[], now: number): RecentFinishes {
    const index = new RecentFinishes(tasks, now);
    for (const task of tasks) index.add(task);
    index.completed.sort((a, b) => a - b);
    index.failed.sort((a, b) => a - b);
    return index;
  }

  private listOf(task: TaskView): number[] {
    return task.state === "failed" ? this.failed : this.completed;
  }

  /** A task that finished within the hour of the last look goes in, in order. */
  private add(task: TaskView, sorted = false): void {
    const at = finishOf(task);
    if (at === undefined || at < this.lookedAt - HOUR) return;
    const list = this.listOf(task);
    if (!sorted || list.length === 0 || (list.at(-1) as number) <= at) list.push(at);
    else list.splice(lowerBound(list, at), 0, at);
  }

  private remove(task: TaskView): void {
    const at = finishOf(task);
    if (at === undefined) return;
    const list = this.listOf(task);
    const i = lowerBound(list, at);
    // Not there: it had aged out already (the same time twice counts the same either way).
    if (list[i] === at) list.splice(i, 1);
  }

  /** Up to date with `tasks` (the list `diff` leads to from this one's) as of `now`. */
  move(tasks: readonly TaskView[], diff: { removed: TaskView[]; added: TaskView[] }, now: number): void {
    this.age(now);
    for (const task of diff.removed) this.remove(task);
    for (const task of diff.added) this.add(task, true);
    this.tasks = tasks;
  }

  /** Times older than `now`'s hour go. */
  age(now: number): void {
    this.lookedAt = now;
    for (const list of [this.completed, this.failed]) {
      const old = lowerBound(list, now - HOUR);
      if (old > 0) list.splice(0, old);
    }
  }
}

/** The index of each list, and the ones moved last (one per stream of snapshots: each `serve` session's). */
const byList = new WeakMap<readonly TaskView[], RecentFinishes>();
const moved: RecentFinishes[] = [];
const STREAMS = 4;

function finishesOf(tasks: readonly TaskView[], now: number): RecentFinishes {
  let index = byList.get(tasks);
  if (!index) {
    for (const candidate of moved) {
      if (now < candidate.lookedAt) continue;
      const diff = diffByIdentity(candidate.tasks, tasks, DIFF_LIMIT(tasks.length));
      if (!diff) continue;
      byList.delete(candidate.tasks);
      candidate.move(tasks, diff, now);
      index = candidate;
      break;
    }
  }
  if (!index || now < index.lookedAt) index = RecentFinishes.of(tasks, now);
  else index.age(now);
  byList.set(tasks, index);
  const at = moved.indexOf(index);
  if (at !== 0) {
    if (at > 0) moved.splice(at, 1);
    moved.unshift(index);
    if (moved.length > STREAMS) moved.length = STREAMS;
  }
  return index;
}

/** Counted once per snapshot and clock second: the home screen asks on every frame. */
const cache = new WeakMap<Snapshot, { second: number; value: Throughput }>();

/**
 * What the federation got done lately and what is in flight. The snapshot is new ten times a
 * second and holds up to 10 000 tasks: the finish times are kept from one snapshot to the
 * next (only the tasks that changed are looked at), and the in-flight numbers are the core's
 * counts.
 */
export function throughputOf(snapshot: Snapshot, now: number): Throughput {
  const second = Math.floor(now / 1000);
  const hit = cache.get(snapshot);
  if (hit && hit.second === second) return hit.value;
  const { completed, failed } = finishesOf(snapshot.tasks, now);
  const counts = snapshot.counts;
  const value: Throughput = {
    done5m: completed.length - lowerBound(completed, now - FIVE_MINUTES),
    doneHour: completed.length,
    failedHour: failed.length,
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
