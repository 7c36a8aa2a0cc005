import type { NodeView, Snapshot, TaskView } from "../../core/domain/federation-types.js";
import { hasUsage } from "../../present/usage-text.js";
import { withTargets } from "../features/dispatch/form.js";
import type { Action } from "../keymap.js";
import { type HomeLayout, homeLayout } from "../layout.js";
import type { AppState, Effect, TableName } from "./app-state.js";
import { activeTable, topScreen } from "./app-state.js";
import { locate, settle } from "./navigation.js";
import type { CommandName } from "./palette.js";
import { findTask, selectNodeRows, selectTaskRows } from "./rows.js";

/**
 * What the reducer and every feature's state module share: rows under the
 * filters, the selection, settling cursors, messages and queued effects.
 */

// The rows stand for their ids (navigation reads `.id`): no id arrays per snapshot.
export function nodeRows(state: AppState): readonly NodeView[] {
  return selectNodeRows(state.snapshot, state.nodes.filter);
}

export function taskRows(state: AppState): readonly TaskView[] {
  return selectTaskRows(state.snapshot, state.tasks.filter);
}

export function allNodeIds(snapshot: Snapshot): string[] {
  return snapshot.nodes.map((n) => n.id).sort();
}

/** How the home screen is split now (the nodes pane holds the rows the filter leaves). */
export function homeOf(state: AppState): HomeLayout {
  return homeLayout(state.size, nodeRows(state).length, hasUsage(state.snapshot.usage));
}

/**
 * After new data, a new filter or a new size: keep each cursor on its row and in
 * view. The home screen shows both tables; under another screen only the table
 * it came from settles (the other one, 10 000 tasks perhaps, settles when the
 * home returns: its cursor is kept by id meanwhile).
 */
export function settleAll(state: AppState): AppState {
  const table = activeTable(state);
  const home = topScreen(state).kind === "nodes" || topScreen(state).kind === "tasks";
  const layout = homeOf(state);
  const nodes =
    home || table === "nodes" ? settle(state.nodes, nodeRows(state), layout.nodeRows) : state.nodes;
  const tasks =
    home || table === "tasks" ? settle(state.tasks, taskRows(state), layout.taskRows) : state.tasks;
  // Marks of tasks that left the snapshot go; no marks (the usual case) costs nothing.
  const marks =
    state.tasks.marks.length === 0
      ? state.tasks.marks
      : ((known) => state.tasks.marks.filter((id) => known.has(id)))(
          new Set(state.snapshot.tasks.map((t) => t.id)),
        );
  const form = state.form ? withTargets(state.form, allNodeIds(state.snapshot)) : null;
  // A terminal made too small for the reply pane gives its keys back to the tasks.
  const reply = state.reply && layout.reply ? state.reply : null;
  return {
    ...state,
    reply,
    nodes: nodes === state.nodes ? state.nodes : { ...state.nodes, ...nodes },
    tasks:
      tasks === state.tasks && marks.length === state.tasks.marks.length
        ? state.tasks
        : { ...state.tasks, ...tasks, marks },
    form,
  };
}

export function withFilter(state: AppState, table: TableName, filter: string): AppState {
  const next =
    table === "nodes"
      ? { ...state, nodes: { ...state.nodes, filter } }
      : { ...state, tasks: { ...state.tasks, filter } };
  return settleAll(next);
}

export function selectedTask(state: AppState): TaskView | undefined {
  const top = topScreen(state);
  if (top.kind === "detail") return findTask(state.snapshot, top.taskId);
  if (top.kind !== "tasks") return undefined;
  const rows = selectTaskRows(state.snapshot, state.tasks.filter);
  return rows[locate(state.tasks, rows)];
}

export function selectedNode(state: AppState): NodeView | undefined {
  const rows = nodeRows(state);
  return rows[locate(state.nodes, rows)];
}

export function say(state: AppState, text: string, tone: "info" | "error" = "info"): AppState {
  return { ...state, message: { text, tone } };
}

export function queue(state: AppState, ...effects: Effect[]): AppState {
  return { ...state, effects: [...state.effects, ...effects] };
}

const READONLY_REFUSALS: Partial<Record<Action | CommandName, string>> = {
  dispatch: "dispatching",
  retry: "retrying",
  cancel: "cancelling",
  discover: "discovery",
  init: "discovery",
  incubate: "incubation",
  migrate: "migration",
  mark: "marking (it only serves retry and cancel)",
  gateway: "starting, stopping and removing nodes",
};

export function refuseReadonly(state: AppState, action: Action | CommandName): AppState {
  return say(state, `Read-only session: ${READONLY_REFUSALS[action] ?? action} is turned off.`, "error");
}
