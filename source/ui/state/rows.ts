import type { NodeView, Snapshot, TaskView } from "../../core/federation-types.js";
import { FINAL_STATES } from "../../core/schema.js";
import { nodeMatches, parseFilter, taskMatches } from "./filter.js";

/** Pending / claimed / running first, then newest first; ties by id (newest id first). */
export function compareTasks(a: TaskView, b: TaskView): number {
  const aDone = FINAL_STATES.includes(a.state) ? 1 : 0;
  const bDone = FINAL_STATES.includes(b.state) ? 1 : 0;
  if (aDone !== bDone) return aDone - bDone;
  const at = Date.parse(a.createdAt) || 0;
  const bt = Date.parse(b.createdAt) || 0;
  if (at !== bt) return bt - at;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
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
    return snapshot.tasks.filter((t) => taskMatches(t, filter)).sort(compareTasks);
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
