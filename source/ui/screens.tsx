import { Text } from "ink";
import type { ReactNode } from "react";
import type { NodeView, TaskView } from "../core/domain/federation-types.js";
import { FINAL_STATES, type TaskState } from "../core/domain/schema.js";
import { clipMiddle } from "../present/text.js";
import { FirstRunPanel } from "./components/nodes-view.js";
import { TaskDetail } from "./components/task-detail.js";
import { AuditView } from "./features/audit/view.js";
import { DispatchForm } from "./features/dispatch/view.js";
import { HelpOverlay } from "./features/help/view.js";
import { HomeView } from "./features/home/view.js";
import { LogsView } from "./features/logs/view.js";
import { MigrationPanel } from "./features/migration/view.js";
import type { Action } from "./keymap.js";
import { primaryKey } from "./keymap.js";
import { type AppState, type TableName, topScreen } from "./state/app-state.js";
import { findTask } from "./state/rows.js";

/**
 * The screen registry: what fills the body and which keys the hint line offers,
 * in one place per screen. `screenOf` decides once which one is showing; the
 * control center draws its body and the status bar its hints.
 */
export type ScreenName =
  | "audit"
  | "help"
  | "form"
  | "migrate"
  | "logs"
  | "detail"
  | "reply"
  | "tasks"
  | "loading"
  | "firstRun"
  | "nodes";

/** [action, word], [action, action, word] ("j/k scroll"), [action, action, joiner, word] ("? or Esc closes"), or fixed text. */
export type Hint = [Action, string] | [Action, Action, string] | [Action, Action, string, string] | string;

/** What the hint lists depend on besides the screen. */
export interface HintState {
  /** The states of the marked tasks (the tasks table offers the bulk actions that apply to them). */
  marks: readonly TaskState[];
  /** The tasks table was reached from a node (Esc goes back there). */
  drilled: boolean;
  /** The table on screen has no rows ("filtered": a filter hides them all): no hints for keys that act on a row. */
  empty: false | "none" | "filtered";
  /** The state of the task the row keys act on (the selected row, or the open task). */
  task?: TaskState | undefined;
}

/** Retry and cancel, offered only for a task they apply to. */
function taskActions(task: TaskState | undefined): Hint[] {
  if (task === undefined) return [];
  if (task === "failed" || task === "cancelled") return [["retry", "retry"]];
  if (task === "completed") return [];
  return [["cancel", "cancel"]];
}

export interface BodyProps {
  state: AppState;
  now: number;
  width: number;
  height: number;
  /** The home shows both tables; other screens get empty rows here. */
  nodeRows: readonly NodeView[];
  taskRows: readonly TaskView[];
  firstRun: boolean;
}

export interface ScreenSpec {
  body(props: BodyProps): ReactNode;
  /** Windowed to the body's height by itself; the others are clipped (clipping costs Ink a second pass). */
  bounded: boolean;
  /** The keys that do something here, most useful first (the line is cut at the right). */
  hints(state: HintState): Hint[];
}

/** Which screen is showing: the help over anything, then the top of the stack. */
export function screenOf(state: AppState): ScreenName {
  const top = topScreen(state);
  if (state.help) return "help";
  if (state.audit) return "audit";
  if (top.kind === "dispatch" && state.form) return "form";
  if (top.kind === "migrate" && state.migration) return "migrate";
  if (top.kind === "logs" && state.logs) return "logs";
  if (top.kind === "tasks" && state.reply) return "reply";
  if (top.kind === "detail" || top.kind === "tasks") return top.kind;
  // Version 0 is a facade's placeholder before its first read: not "no nodes yet".
  if (state.snapshot.version === 0 && state.snapshot.nodes.length === 0) return "loading";
  return state.snapshot.nodes.length === 0 ? "firstRun" : "nodes";
}

const NODES_HINTS: Hint[] = [
  ["help", "help"],
  ["open", "its tasks"],
  ["switchPane", "to tasks"],
  ["filter", "filter"],
  ["palette", "command"],
  ["dispatch", "dispatch"],
  ["migrate", "migrate"],
  ["refresh", "refresh"],
  ["quit", "quit"],
];

/** Both tables on one screen (the home); `focus` is the pane with the keys. */
function homeBody(focus: TableName | "reply") {
  return ({ state, now, width, nodeRows, taskRows, firstRun }: BodyProps) => (
    <HomeView
      state={state}
      now={now}
      width={width}
      focus={focus}
      nodeRows={nodeRows}
      taskRows={taskRows}
      firstRun={firstRun}
    />
  );
}

export const SCREENS: Record<ScreenName, ScreenSpec> = {
  audit: {
    body: ({ state, width, height }) =>
      state.audit ? <AuditView audit={state.audit} width={width} height={height} /> : null,
    bounded: true,
    hints: () => [["down", "up", "scroll"], ["refresh", "read again"], ["back", "closes"], "Ctrl+C quit"],
  },
  help: {
    body: ({ state, width, height }) =>
      state.help ? (
        <HelpOverlay
          keymap={state.keymap}
          readonly={state.readonly}
          scroll={state.help.scroll}
          width={width}
          height={height}
        />
      ) : null,
    bounded: true,
    // q closes the help too (it never quits from here): Ctrl+C does.
    hints: () => [["down", "up", "scroll"], ["help", "back", "or", "closes"], "Ctrl+C quit"],
  },
  form: {
    body: ({ state, width }) => {
      if (!state.form) return null;
      const target = state.form.target;
      const node = state.snapshot.nodes.find((n) => n.id === target);
      return <DispatchForm form={state.form} width={width} {...(node ? { targetNode: node } : {})} />;
    },
    bounded: false,
    hints: () => ["Enter send", "Tab next field", "← → change", "Esc cancel", "Ctrl+C quit"],
  },
  migrate: {
    body: ({ state, width, height }) =>
      state.migration ? <MigrationPanel migration={state.migration} width={width} height={height} /> : null,
    bounded: true,
    hints: () => [
      ["help", "help"],
      ["back", "back"],
      ["quit", "quit"],
    ],
  },
  logs: {
    body: ({ state, width, height }) =>
      state.logs ? <LogsView logs={state.logs} width={width} height={height} /> : null,
    bounded: true,
    hints: () => [
      ["filter", "filter"],
      ["down", "up", "scroll"],
      ["back", "back"],
      ["help", "help"],
      ["quit", "quit"],
    ],
  },
  detail: {
    body: ({ state, now, width, height }) => {
      const top = topScreen(state);
      if (top.kind !== "detail") return null;
      const task = findTask(state.snapshot, top.taskId);
      const taskNode = task ? state.snapshot.nodes.find((n) => n.id === task.node) : undefined;
      return (
        <TaskDetail
          task={task}
          taskId={top.taskId}
          {...(taskNode ? { node: taskNode } : {})}
          {...(top.outcome ? { outcome: top.outcome } : {})}
          scroll={state.detail.scroll}
          follow={state.detail.follow}
          width={width}
          height={height}
          now={now}
        />
      );
    },
    bounded: true,
    hints: ({ task }) => [
      ["help", "help"],
      ["down", "up", "scroll"],
      ["back", "back"],
      ...taskActions(task),
      ["dispatch", "dispatch"],
      ["quit", "quit"],
    ],
  },
  tasks: {
    body: homeBody("tasks"),
    bounded: true,
    hints: ({ marks, drilled, empty, task }) => {
      if (marks.length > 0)
        return [
          `${marks.length} marked:`,
          ...(marks.some((s) => s === "failed" || s === "cancelled")
            ? [["retry", "retry them"] as Hint]
            : []),
          ...(marks.some((s) => !FINAL_STATES.includes(s)) ? [["cancel", "cancel them"] as Hint] : []),
          ["mark", "unmark"],
          ["back", "clear marks"],
        ];
      if (empty)
        return [
          ["help", "help"],
          ["filter", "filter"],
          ...(drilled
            ? [["back", "back"] as Hint]
            : empty === "filtered"
              ? [["back", "clear filter"] as Hint]
              : []),
          ["palette", "command"],
          ["dispatch", "dispatch"],
          ["switchPane", "to nodes"],
          ["quit", "quit"],
        ];
      return [
        ["help", "help"],
        ["open", "details"],
        ["filter", "filter"],
        ["palette", "command"],
        ...(drilled ? [["back", "back"] as Hint] : []),
        ...taskActions(task),
        ["mark", "mark"],
        ["dispatch", "dispatch"],
        ["switchPane", "next pane"],
        ["quit", "quit"],
      ];
    },
  },
  reply: {
    body: homeBody("reply"),
    bounded: true,
    hints: ({ task }) => [
      ["help", "help"],
      ["down", "up", "scroll"],
      ["open", "details"],
      ["back", "to tasks"],
      ...taskActions(task),
      ["switchPane", "to nodes"],
      ["quit", "quit"],
    ],
  },
  loading: {
    body: ({ state, width }) => (
      <Text dimColor wrap="truncate-end">
        {"  "}Reading the federation… ({clipMiddle(state.snapshot.blackboardLocation, width - 30)})
      </Text>
    ),
    bounded: true,
    hints: () => NODES_HINTS,
  },
  firstRun: {
    body: ({ state, width }) => (
      <FirstRunPanel
        discovery={state.discovery}
        discoverKey={primaryKey(state.keymap, "discover")}
        readonly={state.readonly}
        width={width}
      />
    ),
    bounded: false,
    hints: () => [
      ["help", "help"],
      ["discover", "look for local profiles"],
      ["palette", "command"],
      ["quit", "quit"],
    ],
  },
  nodes: { body: homeBody("nodes"), bounded: true, hints: () => NODES_HINTS },
};
