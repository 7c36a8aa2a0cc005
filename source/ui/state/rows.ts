import type { NodeView, Snapshot, TaskView } from "../../core/domain/federation-types.js";
import { FINAL_STATES } from "../../core/domain/schema.js";
import { diffByIdentity } from "../../present/list-diff.js";
import { compareNodes as compareNodesById } from "../../present/vocabulary.js";
import { nodeMatches, parseFilter, taskMatches } from "../features/filter/query.js";

const FINAL = new Set<string>(FINAL_STATES);

/** Pending / claimed / running first, then newest first; ties by id (newest id first). */
export function compareTasks(a: TaskView, b: TaskView): number {
  const aDone = FINAL.has(a.state) ? 1 : 0;
  const bDone = FINAL.has(b.state) ? 1 : 0;
  if (aDone !== bDone) return aDone - bDone;
  const at = Date.parse(a.createdAt) || 0;
  const bt = Date.parse(b.createdAt) || 0;
  if (at !== bt) return bt - at;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

// A task's creation time never changes: parse it once, not twice per comparison
// (10 000 tasks sorted 10 times a second spent most of the control center's CPU
// in Date.parse). First by object (fastest; the same objects come back snapshot
// after snapshot), then by id (the live facade may build new objects on every
// reload). The id map is bounded: cleared when it outgrows what is shown.
const createdByTask = new WeakMap<TaskView, number>();
const createdById = new Map<string, number>();

function createdOf(task: TaskView): number {
  let at = createdByTask.get(task);
  if (at === undefined) {
    at = createdById.get(task.id);
    if (at === undefined) {
      at = Date.parse(task.createdAt) || 0;
      createdById.set(task.id, at);
    }
    createdByTask.set(task, at);
  }
  return at;
}

// Keys and index lists reused from sort to sort (sorting is synchronous, so
// sessions sharing a process cannot interleave): little garbage per snapshot.
let keyAt = new Float64Array(0);
const active: number[] = [];
const finished: number[] = [];

/**
 * The same order as compareTasks. Active and finished tasks are split first and
 * each part sorted by time: the facade lists tasks in time order, so each part
 * is already one run and the sort (TimSort) is close to a single pass.
 */
export function sortTasks(tasks: readonly TaskView[]): TaskView[] {
  const n = tasks.length;
  if (createdById.size > Math.max(50_000, n * 4)) createdById.clear();
  if (keyAt.length < n) keyAt = new Float64Array(Math.ceil(n * 1.5));
  const at = keyAt;
  active.length = 0;
  finished.length = 0;
  for (let i = 0; i < n; i++) {
    const task = tasks[i] as TaskView;
    at[i] = createdOf(task);
    (FINAL.has(task.state) ? finished : active).push(i);
  }
  const newestFirst = (a: number, b: number): number => {
    const d = (at[b] as number) - (at[a] as number);
    if (d !== 0) return d;
    const ia = (tasks[a] as TaskView).id;
    const ib = (tasks[b] as TaskView).id;
    return ia < ib ? 1 : ia > ib ? -1 : 0;
  };
  active.sort(newestFirst);
  finished.sort(newestFirst);
  const out: TaskView[] = new Array(n);
  let o = 0;
  for (const i of active) out[o++] = tasks[i] as TaskView;
  for (const i of finished) out[o++] = tasks[i] as TaskView;
  active.length = 0;
  finished.length = 0;
  return out;
}

/** sortTasks' order on two tasks (parsed times from the cache): < 0 when `a` comes first. */
function order(a: TaskView, b: TaskView): number {
  const aDone = FINAL.has(a.state) ? 1 : 0;
  const bDone = FINAL.has(b.state) ? 1 : 0;
  if (aDone !== bDone) return aDone - bDone;
  const d = createdOf(b) - createdOf(a);
  if (d !== 0) return d;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** First index in `sorted` whose task does not come before `task`. */
function lowerBound(sorted: readonly TaskView[], task: TaskView): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order(sorted[mid] as TaskView, task) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * sortTasks(next), given that `prevSorted` is sortTasks(prev): the few tasks that
 * changed are taken out and put in by binary search, the rest is copied in order,
 * with no per-task work beyond the copy (sorting all 10 000 tasks on every snapshot
 * looked up each task's time: ~1 ms a frame). Undefined when that cannot be done
 * exactly — too many changes, or two tasks that order as equal (the same id and
 * time twice) — and the caller sorts from scratch.
 */
export function resortTasks(
  prev: readonly TaskView[],
  prevSorted: readonly TaskView[],
  next: readonly TaskView[],
): TaskView[] | undefined {
  if (prevSorted.length !== prev.length) return undefined;
  const diff = diffByIdentity(prev, next, Math.max(64, next.length >>> 4));
  if (!diff) return undefined;
  const { removed, added } = diff;
  const removedAt: number[] = [];
  for (const task of removed) {
    const at = lowerBound(prevSorted, task);
    // Not where its order says (changed in place?): start over.
    if (prevSorted[at] !== task) return undefined;
    removedAt.push(at);
  }
  removedAt.sort((a, b) => a - b);
  // The same task twice in a list: start over.
  for (let k = 1; k < removedAt.length; k++) if (removedAt[k] === removedAt[k - 1]) return undefined;
  const gone = new Set(removedAt);
  added.sort(order);
  const insertAt: number[] = [];
  for (let k = 0; k < added.length; k++) {
    const task = added[k] as TaskView;
    if (k > 0 && order(added[k - 1] as TaskView, task) === 0) return undefined;
    const at = lowerBound(prevSorted, task);
    // Ties with a task that stays would need the input order to break them.
    for (let k = at; k < prevSorted.length && order(prevSorted[k] as TaskView, task) === 0; k++)
      if (!gone.has(k)) return undefined;
    insertAt.push(at);
  }
  const out: TaskView[] = new Array(prevSorted.length - removed.length + added.length);
  let o = 0;
  let r = 0;
  let a = 0;
  for (let k = 0; k <= prevSorted.length; k++) {
    // `added` is in order, so its insertion points never decrease.
    while (a < added.length && insertAt[a] === k) out[o++] = added[a++] as TaskView;
    if (k === prevSorted.length) break;
    if (r < removedAt.length && removedAt[r] === k) {
      r++;
      continue;
    }
    out[o++] = prevSorted[k] as TaskView;
  }
  return out;
}

export { compareNodes } from "../../present/vocabulary.js";

// Sorting and filtering 10 k tasks on every key press would be wasteful: keep
// the last result per (snapshot, filter). Keyed by the snapshot object, so each
// session (each App) naturally gets its own entries and old ones are collected.
const taskCache = new WeakMap<Snapshot, Map<string, TaskView[]>>();
const nodeCache = new WeakMap<Snapshot, Map<string, NodeView[]>>();

function cached<T>(
  cache: WeakMap<Snapshot, Map<string, T[]>>,
  snapshot: Snapshot,
  key: string,
  make: () => T[],
): T[] {
  let byFilter = cache.get(snapshot);
  if (!byFilter) {
    byFilter = new Map();
    cache.set(snapshot, byFilter);
  }
  let rows = byFilter.get(key);
  if (!rows) {
    rows = make();
    if (byFilter.size > 8) byFilter.clear();
    byFilter.set(key, rows);
  }
  return rows;
}

// The last sorted rows per filter, to sort the next snapshot from (resortTasks). Few
// filters are in use at once (one per session): bounded, cleared when it outgrows that.
const lastSorted = new Map<string, { input: readonly TaskView[]; sorted: TaskView[] }>();

export function selectTaskRows(snapshot: Snapshot, filterText: string): TaskView[] {
  return cached(taskCache, snapshot, filterText, () => {
    const filter = parseFilter(filterText);
    const input =
      filter.terms.length === 0 ? snapshot.tasks : snapshot.tasks.filter((t) => taskMatches(t, filter));
    const last = lastSorted.get(filterText);
    const sorted = (last && resortTasks(last.input, last.sorted, input)) ?? sortTasks(input);
    if (lastSorted.size > 16) lastSorted.clear();
    lastSorted.set(filterText, { input, sorted });
    return sorted;
  });
}

export function selectNodeRows(snapshot: Snapshot, filterText: string): NodeView[] {
  return cached(nodeCache, snapshot, filterText, () => {
    const filter = parseFilter(filterText);
    return snapshot.nodes.filter((n) => nodeMatches(n, filter)).sort(compareNodesById);
  });
}

export function findTask(snapshot: Snapshot, id: string): TaskView | undefined {
  return snapshot.tasks.find((t) => t.id === id);
}
