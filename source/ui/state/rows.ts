import type { NodeView, Snapshot, TaskView } from "../../core/federation-types.js";
import { FINAL_STATES } from "../../core/schema.js";
import { nodeMatches, parseFilter, taskMatches } from "./filter.js";

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

export function compareNodes(a: NodeView, b: NodeView): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

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

export function selectTaskRows(snapshot: Snapshot, filterText: string): TaskView[] {
  return cached(taskCache, snapshot, filterText, () => {
    const filter = parseFilter(filterText);
    return sortTasks(
      filter.terms.length === 0 ? snapshot.tasks : snapshot.tasks.filter((t) => taskMatches(t, filter)),
    );
  });
}

export function selectNodeRows(snapshot: Snapshot, filterText: string): NodeView[] {
  return cached(nodeCache, snapshot, filterText, () => {
    const filter = parseFilter(filterText);
    return snapshot.nodes.filter((n) => nodeMatches(n, filter)).sort(compareNodes);
  });
}

export function findTask(snapshot: Snapshot, id: string): TaskView | undefined {
  return snapshot.tasks.find((t) => t.id === id);
}
