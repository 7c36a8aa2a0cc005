import type { TaskView } from "../../core/domain/federation-types.js";
import { ACTIVE_STATES, FINAL_STATES } from "../../core/domain/schema.js";
import { buildDetailLines } from "../detail-lines.js";
import { onAuditFailed, onAuditKey, onAuditLoaded, openAudit } from "../features/audit/state.js";
import { onDispatched, onDispatchFailed, onFormKey, openDispatch } from "../features/dispatch/state.js";
import { onFilterKey, openFilter, showTable } from "../features/filter/state.js";
import { onHelpKey, openHelp } from "../features/help/state.js";
import { incubate } from "../features/incubation/state.js";
import { onLogLines, onLogsKey, openLogs } from "../features/logs/state.js";
import {
  migrateCommand,
  migrateSelected,
  migrationDeclined,
  migrationStarts,
  onMigrateDone,
  onMigrateFailed,
  onMigrateLine,
  onMigrateTargetKey,
} from "../features/migration/state.js";
import { gatewayCommand, gatewaySelected } from "../features/node-life/state.js";
import { scrollReply, switchPane } from "../features/reply/state.js";
import type { KeyPress } from "../input.js";
import { ACTIONS, type Action, type ActionSpec, type Pane, primaryKey } from "../keymap.js";
import { bodyHeight, clampSize } from "../layout.js";
import type { AppAction, AppState, Screen } from "./app-state.js";
import { activeTable, topScreen } from "./app-state.js";
import { onTick } from "./message.js";
import { type Move, move, scrollLines } from "./navigation.js";
import { COMMANDS, type CommandName, type CommandSpec, completeCommand, resolveCommand } from "./palette.js";
import {
  homeOf,
  nodeRows,
  queue,
  refuseReadonly,
  say,
  selectedNode,
  selectedTask,
  settleAll,
  taskRows,
  withFilter,
} from "./reducer-kit.js";
import { findTask } from "./rows.js";
import { editText, textField } from "./text-edit.js";

/**
 * The control center's state machine: (state, action) → state, no side
 * effects. Anything that must touch the federation is queued in
 * `state.effects` for the App to run; the results come back as actions.
 */
export function appReducer(state: AppState, action: AppAction): AppState {
  switch (action.type) {
    case "snapshot":
      return settleAll({ ...state, snapshot: action.snapshot });
    case "resize":
      return settleAll({ ...state, size: action.size });
    case "key":
      return onKey({ ...state, message: null }, action.key);
    case "tick":
      return onTick(state, action.now);
    case "effectsTaken":
      return state.effects.length === 0 ? state : { ...state, effects: [] };
    case "notify":
      return { ...state, message: action.message };
    case "dispatched":
      return onDispatched(state, action.outcome);
    case "dispatchFailed":
      return onDispatchFailed(state, action.error);
    case "discovered":
      return {
        ...state,
        discovery: { status: "done", found: action.ids },
        message: {
          text:
            action.ids.length > 0
              ? `Discovered and added: ${action.ids.join(", ")}`
              : state.snapshot.nodes.length > 0
                ? "No new OpenClaw profiles to add (looked in ~/.openclaw and ~/.openclaw-*; known ones are already nodes)."
                : "No local OpenClaw profiles found (looked for ~/.openclaw and ~/.openclaw-*).",
          tone: "info",
        },
      };
    case "migrateLine":
      return onMigrateLine(state, action.line);
    case "migrateDone":
      return onMigrateDone(state);
    case "migrateFailed":
      return onMigrateFailed(state, action.error);
    case "logLines":
      return onLogLines(state, action.view);
    case "auditLoaded":
      return onAuditLoaded(state, action.lines);
    case "auditFailed":
      return onAuditFailed(state, action.error);
    case "discoverFailed":
      return {
        ...state,
        discovery: { status: "failed", found: [], error: action.error },
        message: { text: `Discovery failed: ${action.error}`, tone: "error" },
      };
  }
}

// ── keys ────────────────────────────────────────────────────────────────────

function onKey(state: AppState, key: KeyPress): AppState {
  // Ctrl+C always leaves, whatever is open and however keys are bound.
  if (key.name === "ctrl+c") return { ...state, quit: true };
  if (state.confirm) return onConfirmKey(state, key);
  if (state.input) return onLineInputKey(state, key);
  if (state.help) return onHelpKey(state, key);
  if (state.audit) return onAuditKey(state, key);
  if (topScreen(state).kind === "dispatch" && state.form) return onFormKey(state, key);
  if (topScreen(state).kind === "logs" && state.logs) return onLogsKey(state, key);
  const action = state.keymap.lookup.get(key.name);
  return action ? onAction(state, action) : state;
}

function onConfirmKey(state: AppState, key: KeyPress): AppState {
  const confirm = state.confirm;
  if (!confirm) return state;
  const cleared = { ...state, confirm: null };
  if (key.name === "y" || key.name === "Y") {
    const done = migrationStarts(queue(say(cleared, confirm.yes), ...confirm.effects), confirm.effects);
    return confirm.clearMarks ? { ...done, tasks: { ...done.tasks, marks: [] } } : done;
  }
  return migrationDeclined(say(cleared, confirm.no));
}

function onLineInputKey(state: AppState, key: KeyPress): AppState {
  const input = state.input;
  if (!input) return state;
  if (input.kind === "filter") return onFilterKey(state, input, key);
  if (input.kind === "migrateTarget") return onMigrateTargetKey(state, input, key);
  if (key.name === "escape") return { ...state, input: null };
  if (key.name === "enter") return runCommand({ ...state, input: null }, input.field.text);
  if (key.name === "tab")
    return {
      ...state,
      input: { ...input, field: textField(completeCommand(input.field.text, state.readonly)) },
    };
  const field = editText(input.field, key);
  return field ? { ...state, input: { ...input, field } } : state;
}

const MOVES: Partial<Record<Action, Move>> = {
  up: "up",
  down: "down",
  top: "top",
  bottom: "bottom",
  pageUp: "pageUp",
  pageDown: "pageDown",
};

/** The home screen's pane with the keys, or undefined on another screen. */
function focusedPane(state: AppState): Pane | undefined {
  const top = topScreen(state).kind;
  if (top === "tasks") return state.reply ? "reply" : "tasks";
  return top === "nodes" ? "nodes" : undefined;
}

const PANE_NAMES: Record<Pane, string> = { nodes: "Nodes table", tasks: "Tasks table", reply: "Reply pane" };

function onAction(state: AppState, action: Action): AppState {
  const spec: ActionSpec = ACTIONS[action];
  if (state.readonly && spec.mutating) return refuseReadonly(state, action);
  // A key acts on the pane that has the keys, never on another one behind it.
  const pane = focusedPane(state);
  if (pane && spec.panes && !spec.panes.includes(pane)) {
    const key = primaryKey(state.keymap, action) ?? action;
    const where = spec.panes.map((p) => `the ${PANE_NAMES[p]}`).join(" or ");
    const back = pane === "reply" ? "Esc goes back to the tasks" : "Tab moves the keys there";
    return say(state, `${key} works in ${where}; ${back}.`);
  }
  const how = MOVES[action];
  if (how) return onMove(state, how);
  switch (action) {
    case "open":
      return openSelected(state);
    case "back":
      return goBack(state);
    case "switchPane":
      return switchPane(state);
    case "filter":
      return openFilter(state);
    case "palette":
      return { ...state, input: { kind: "palette", field: textField("") } };
    case "help":
      return openHelp(state);
    case "dispatch":
      return openDispatch(state);
    case "retry":
      return retry(state);
    case "cancel":
      return cancel(state);
    case "mark":
      return toggleMark(state);
    case "refresh":
      return queue(say(state, "Refreshing: re-reading the blackboard and probing nodes…"), {
        type: "refresh",
      });
    case "discover":
      return discover(state);
    case "migrate":
      return migrateSelected(state);
    case "gateway":
      return gatewaySelected(state);
    case "logs":
      return openLogs(state);
    case "audit":
      return openAudit(state);
    case "quit":
      return { ...state, quit: true };
    default:
      return state;
  }
}

function detailLineCount(state: AppState, screen: Extract<Screen, { kind: "detail" }>): number {
  const task = findTask(state.snapshot, screen.taskId);
  const pending = { id: screen.taskId, ...(screen.outcome ? { outcome: screen.outcome } : {}) };
  const node = task ? state.snapshot.nodes.find((n) => n.id === task.node) : undefined;
  // The snapshot's time stands in for the clock (the reducer has none): ages only change a wrap now and then.
  const now = Date.parse(state.snapshot.updatedAt) || 0;
  return buildDetailLines(task, clampSize(state.size).columns, now, pending, node).length;
}

function onMove(state: AppState, how: Move): AppState {
  const top = topScreen(state);
  if (state.reply && top.kind === "tasks") return scrollReply(state, how);
  if (top.kind === "nodes") {
    const moved = move(state.nodes, how, nodeRows(state), homeOf(state).nodeRows);
    return { ...state, nodes: { ...state.nodes, ...moved } };
  }
  if (top.kind === "tasks") {
    const moved = move(state.tasks, how, taskRows(state), homeOf(state).taskRows);
    return { ...state, tasks: { ...state.tasks, ...moved } };
  }
  if (top.kind !== "detail") return state;
  const height = bodyHeight(state.size);
  const max = Math.max(0, detailLineCount(state, top) - height);
  return { ...state, detail: scrollLines(state.detail, how, max, height - 1) };
}

function openSelected(state: AppState): AppState {
  const top = topScreen(state);
  if (top.kind === "nodes") {
    const id = selectedNode(state)?.id;
    if (!id) return state;
    const drilled: AppState = {
      ...state,
      stack: [...state.stack, { kind: "tasks", drilledFrom: { filter: state.tasks.filter } }],
      tasks: { ...state.tasks, cursor: 0, offset: 0, selectedId: null },
    };
    return withFilter(drilled, "tasks", `node:${id}`);
  }
  if (top.kind === "tasks") {
    const task = selectedTask(state);
    if (!task) return state;
    return {
      ...state,
      stack: [...state.stack, { kind: "detail", taskId: task.id }],
      // A task still at work shows its reply's end as it streams; a finished one opens at its top,
      // so its facts are what a short terminal shows first.
      detail: {
        scroll: 0,
        follow: ACTIVE_STATES.includes(task.state),
      },
    };
  }
  return state;
}

function goBack(state: AppState): AppState {
  const top = topScreen(state);
  // The reply pane gives the keys back to the tasks first.
  if (state.reply && top.kind === "tasks") return { ...state, reply: null };
  if (state.stack.length > 1) {
    const popped = { ...state, stack: state.stack.slice(0, -1) };
    if (top.kind === "tasks" && top.drilledFrom) return withFilter(popped, "tasks", top.drilledFrom.filter);
    return popped;
  }
  const table = activeTable(state);
  if (state[table].filter !== "") return withFilter(state, table, "");
  if (state.tasks.marks.length > 0) return { ...state, tasks: { ...state.tasks, marks: [] } };
  return state;
}

const RETRIABLE = new Set(["failed", "cancelled"]);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function markedTasks(state: AppState): TaskView[] {
  // In the reply pane r and x act on the task it shows, not on the marks of the table behind.
  if (focusedPane(state) !== "tasks" || state.tasks.marks.length === 0) return [];
  const byId = new Map(state.snapshot.tasks.map((t) => [t.id, t]));
  return state.tasks.marks.flatMap((id) => byId.get(id) ?? []);
}

const MARKED_WORDS = {
  retry: { verb: "Retry", doing: "Retrying", none: "Nothing retried." },
  cancel: { verb: "Cancel", doing: "Cancelling", none: "Nothing cancelled." },
} as const;

/** Ask before retrying or cancelling every marked task at once. */
function confirmMarked(state: AppState, type: "retry" | "cancel", ids: string[], note: string): AppState {
  const words = MARKED_WORDS[type];
  return {
    ...state,
    confirm: {
      prompt: `${words.verb} ${plural(ids.length, "marked task")}${note}?`,
      effects: [{ type, ids }],
      yes: `${words.doing} ${plural(ids.length, "task")}…`,
      no: words.none,
      clearMarks: true,
    },
  };
}

function retry(state: AppState): AppState {
  const marked = markedTasks(state);
  if (marked.length > 0) {
    const ids = marked.filter((t) => RETRIABLE.has(t.state)).map((t) => t.id);
    if (ids.length === 0)
      return say(state, "None of the marked tasks failed or was cancelled: nothing to retry.");
    const skipped = marked.length - ids.length;
    const note = skipped ? ` (${skipped} still active or done, skipped)` : "";
    return confirmMarked(state, "retry", ids, note);
  }
  const task = selectedTask(state);
  if (!task) return say(state, "Select a task first (Tab switches to the Tasks table).");
  if (!RETRIABLE.has(task.state))
    return say(state, `${task.id} is ${task.state}: only failed or cancelled tasks can be retried.`);
  return queue(say(state, `Retrying ${task.id}…`), { type: "retry", ids: [task.id] });
}

function cancel(state: AppState): AppState {
  const marked = markedTasks(state);
  if (marked.length > 0) {
    const ids = marked.filter((t) => !FINAL_STATES.includes(t.state)).map((t) => t.id);
    if (ids.length === 0) return say(state, "All marked tasks have already finished: nothing to cancel.");
    return confirmMarked(state, "cancel", ids, "");
  }
  const task = selectedTask(state);
  if (!task) return say(state, "Select a task first (Tab switches to the Tasks table).");
  if (FINAL_STATES.includes(task.state))
    return say(state, `${task.id} has already finished (${task.state}).`);
  return {
    ...state,
    confirm: {
      prompt: `Cancel ${task.id} (${task.state} on ${task.node})?`,
      effects: [{ type: "cancel", ids: [task.id] }],
      yes: `Cancelling ${task.id}…`,
      no: "Nothing cancelled.",
      clearMarks: false,
    },
  };
}

function toggleMark(state: AppState): AppState {
  if (topScreen(state).kind !== "tasks") return say(state, "Marks are for the Tasks table.");
  const task = selectedTask(state);
  if (!task) return state;
  const marks = state.tasks.marks.includes(task.id)
    ? state.tasks.marks.filter((id) => id !== task.id)
    : [...state.tasks.marks, task.id];
  const moved = move(state.tasks, "down", taskRows(state), homeOf(state).taskRows);
  return { ...state, tasks: { ...state.tasks, ...moved, marks } };
}

function discover(state: AppState): AppState {
  if (state.readonly) return refuseReadonly(state, "discover");
  if (state.discovery.status === "running") return say(state, "Discovery is already running…");
  return queue(
    { ...say(state, "Looking for local OpenClaw profiles…"), discovery: { status: "running", found: [] } },
    { type: "discover" },
  );
}

function runCommand(state: AppState, text: string): AppState {
  const resolved = resolveCommand(text);
  if (!resolved.ok) return say(state, resolved.error, "error");
  const { command, args } = resolved;
  const spec: CommandSpec | undefined = COMMANDS.find((c) => c.name === command);
  if (state.readonly && spec?.mutating) return refuseReadonly(state, command);
  const handlers: Record<CommandName, () => AppState> = {
    nodes: () => showTable(state, "nodes", args),
    tasks: () => showTable(state, "tasks", args),
    dispatch: () => openDispatch(state, args),
    incubate: () => incubate(state, args),
    migrate: () => migrateCommand(state, args),
    gateway: () => gatewayCommand(state, args),
    audit: () => openAudit(state),
    refresh: () => onAction(state, "refresh"),
    init: () => discover(state),
    help: () => openHelp(state),
    quit: () => ({ ...state, quit: true }),
  };
  return handlers[command]();
}
