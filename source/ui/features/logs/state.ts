import type { LogEntry, LogView } from "../../../core/domain/federation-types.js";
import type { KeyPress } from "../../input.js";
import type { Action } from "../../keymap.js";
import { bodyHeight } from "../../layout.js";
import type { AppState } from "../../state/app-state.js";
import { topScreen } from "../../state/app-state.js";
import { queue, say, selectedNode, selectedTask } from "../../state/reducer-kit.js";
import { editText, type TextField, textField } from "../../state/text-edit.js";

/** Lines a log view keeps: the oldest go first. */
export const MAX_LOG_LINES = 2000;
/** Lines asked for when a view opens. */
export const FIRST_LOG_LINES = 500;

/** The log view of one node: its lines (newest last), a filter, and where the view is. */
export interface LogsState {
  node: string;
  origin: string;
  entries: LogEntry[];
  /** Filter text: only lines that contain it (any case). */
  filter: string;
  /** Being typed after `/`; Enter keeps it, Esc drops it. */
  editing: TextField | null;
  /** Lines scrolled up from the end; 0 follows new lines. */
  fromEnd: number;
}

/** `l`: the log of the node in view (the selected node, or the selected or open task's node). */
export function openLogs(state: AppState): AppState {
  const top = topScreen(state);
  const node = top.kind === "nodes" ? selectedNode(state)?.id : selectedTask(state)?.node;
  if (!node) return say(state, "Select a node (or a task) first: l shows its log.");
  const logs: LogsState = { node, origin: "reading…", entries: [], filter: "", editing: null, fromEnd: 0 };
  return queue({ ...state, logs, stack: [...state.stack, { kind: "logs" }] }, { type: "logs", node });
}

/** New lines from the facade (the first batch replaces; the next ones add). */
export function onLogLines(state: AppState, view: LogView): AppState {
  const logs = state.logs;
  if (!logs || logs.node !== view.node) return state;
  const entries = view.initial ? view.entries : [...logs.entries, ...view.entries];
  const trimmed = entries.length > MAX_LOG_LINES ? entries.slice(-MAX_LOG_LINES) : entries;
  // Scrolled up: stay on the same lines while new ones arrive below.
  const grown = view.initial ? 0 : visibleEntries({ ...logs, entries: view.entries }).length;
  return {
    ...state,
    logs: {
      ...logs,
      origin: view.origin,
      entries: trimmed,
      fromEnd: logs.fromEnd ? logs.fromEnd + grown : 0,
    },
  };
}

/** The lines the filter lets through. */
export function visibleEntries(logs: Pick<LogsState, "entries" | "filter">): LogEntry[] {
  const needle = logs.filter.toLowerCase();
  if (!needle) return logs.entries;
  return logs.entries.filter((e) => e.text.toLowerCase().includes(needle) || e.level.includes(needle));
}

/** Rows the view has for lines: the body less its header. */
export const logRows = (state: AppState) => Math.max(1, bodyHeight(state.size) - 1);

/** Keys while the log view shows: `/` filters, scroll keys scroll, Esc closes (and stops following). */
export function onLogsKey(state: AppState, key: KeyPress): AppState {
  const logs = state.logs;
  if (!logs) return state;
  if (logs.editing) return onFilterTyping(state, logs, logs.editing, key);
  const action = state.keymap.lookup.get(key.name);
  if (action === "back") {
    if (logs.filter) return { ...state, logs: { ...logs, filter: "", fromEnd: 0 } };
    return closeLogs(state);
  }
  if (action === "quit") return { ...state, quit: true };
  if (action === "filter") return { ...state, logs: { ...logs, editing: textField(logs.filter) } };
  const max = Math.max(0, visibleEntries(logs).length - logRows(state));
  const page = logRows(state) - 1;
  const step: Partial<Record<Action, number>> = {
    up: 1,
    down: -1,
    pageUp: page,
    pageDown: -page,
    top: Number.POSITIVE_INFINITY,
    bottom: Number.NEGATIVE_INFINITY,
  };
  const delta = action ? step[action] : undefined;
  if (delta === undefined) return state;
  return { ...state, logs: { ...logs, fromEnd: Math.max(0, Math.min(max, logs.fromEnd + delta)) } };
}

function onFilterTyping(state: AppState, logs: LogsState, field: TextField, key: KeyPress): AppState {
  if (key.name === "escape") return { ...state, logs: { ...logs, editing: null } };
  if (key.name === "enter") return { ...state, logs: { ...logs, editing: null } };
  const next = editText(field, key);
  if (!next) return state;
  // The filter applies as it is typed.
  return { ...state, logs: { ...logs, editing: next, filter: next.text, fromEnd: 0 } };
}

function closeLogs(state: AppState): AppState {
  return queue({ ...state, logs: null, stack: state.stack.slice(0, -1) }, { type: "stopLogs" });
}
