import { Box, Text } from "ink";
import { memo } from "react";
import type { NodeView, Snapshot, TaskView } from "../../../core/domain/federation-types.js";
import { shortTaskId } from "../../../core/domain/ids.js";
import { FINAL_STATES } from "../../../core/domain/schema.js";
import { clip, displayWidth } from "../../../present/text.js";
import { throughputOf, throughputParts } from "../../../present/throughput.js";
import { hasUsage, usageSummary } from "../../../present/usage-text.js";
import { NodesView } from "../../components/nodes-view.js";
import { TaskDetail } from "../../components/task-detail.js";
import { TasksView } from "../../components/tasks-view.js";
import { primaryKey } from "../../keymap.js";
import { type HomeLayout, homeLayout } from "../../layout.js";
import type { AppState, TableName } from "../../state/app-state.js";
import { locate } from "../../state/navigation.js";
import { type Tone, useTheme } from "../../theme.js";

export interface HomeViewProps {
  state: AppState;
  now: number;
  width: number;
  /** The pane with the keys. */
  focus: TableName | "reply";
  nodeRows: readonly NodeView[];
  taskRows: readonly TaskView[];
  firstRun: boolean;
}

/**
 * Tokens used today across the federation, for the throughput line when the
 * usage line has no room (a short terminal).
 */
function tokensToday(snapshot: Snapshot): number | undefined {
  const today = snapshot.usage?.today;
  return today && today.tasks > 0 ? today.prompt + today.completion : undefined;
}

/**
 * The home screen: the nodes, the tasks under them with a line of what got done
 * lately, and the selected task's reply when there is room (see `homeLayout`).
 * Tab moves the keys from pane to pane (the reply too, where it is shown); a
 * table without them keeps its selection, marked but not lit.
 */
export function HomeView({ state, now, width, focus, nodeRows, taskRows, firstRun }: HomeViewProps) {
  const layout = homeLayout(state.size, nodeRows.length, hasUsage(state.snapshot.usage));
  const selected = taskRows.length > 0 ? taskRows[locate(state.tasks, taskRows)] : undefined;
  // Why a task waits names its node's state; a finished task needs no node (and keeps the pane memoized).
  const node =
    selected && !FINAL_STATES.includes(selected.state)
      ? state.snapshot.nodes.find((n) => n.id === selected.node)
      : undefined;
  const tasks = (
    <TasksPane
      state={state}
      now={now}
      width={layout.tasksWidth}
      layout={layout}
      focused={focus === "tasks"}
      taskRows={taskRows}
      firstRun={firstRun}
    />
  );
  const reply = layout.reply;
  return (
    <Box flexDirection="column" width={width}>
      <NodesView
        rows={nodeRows}
        table={state.nodes}
        filter={state.nodes.filter}
        width={width}
        height={1 + layout.nodeRows + layout.infoRows}
        now={now}
        infoRows={layout.infoRows}
        focused={focus === "nodes"}
      />
      {reply === null ? (
        tasks
      ) : (
        <Box flexDirection={reply.at === "side" ? "row" : "column"} width={width}>
          {tasks}
          <ReplyPane
            task={selected}
            node={node}
            width={reply.width}
            height={reply.height}
            now={now}
            gutter={reply.at === "side" ? 1 : 0}
            focused={focus === "reply"}
            scroll={state.reply?.scroll ?? 0}
            follow={state.reply?.follow ?? true}
          />
        </Box>
      )}
    </Box>
  );
}

function TasksPane({
  state,
  now,
  width,
  layout,
  focused,
  taskRows,
  firstRun,
}: {
  state: AppState;
  now: number;
  width: number;
  layout: HomeLayout;
  focused: boolean;
  taskRows: readonly TaskView[];
  firstRun: boolean;
}) {
  const parts = throughputParts(
    throughputOf(state.snapshot, now),
    layout.usageRow ? undefined : tokensToday(state.snapshot),
  );
  return (
    <Box flexDirection="column" width={width} height={layout.tasksHeight} flexShrink={0}>
      <PaneTitle
        label={`Tasks ${taskRows.length}`}
        detail={parts.join(" · ")}
        focused={focused}
        width={width}
      />
      {layout.usageRow ? <UsageLine {...usageLine(state.snapshot.usage, width)} /> : null}
      <TasksView
        rows={taskRows}
        table={state.tasks}
        marks={state.tasks.marks}
        filter={state.tasks.filter}
        totalTasks={state.snapshot.tasks.length}
        width={width}
        height={layout.taskRows + 1}
        now={now}
        dispatchKey={state.readonly || firstRun ? null : primaryKey(state.keymap, "dispatch")}
        noNodes={firstRun}
        focused={focused}
      />
    </Box>
  );
}

/**
 * The federation's tokens today and over 7 days, and its budget (`status`'s line), under the
 * tasks' title; lit once the budget is near (80 %) or reached. As text and tone: the usage
 * object is new with every snapshot, the line seldom changes.
 */
function usageLine(usage: Snapshot["usage"], width: number): { text: string; tone: Tone } {
  const budget = usage?.budget;
  return {
    text: ` ${clip(usageSummary(usage, width - 1) ?? "", width - 1)}`,
    tone: budget?.reached ? "error" : (budget?.percent ?? 0) >= 80 ? "warn" : "muted",
  };
}

const UsageLine = memo(function UsageLine({ text, tone }: { text: string; tone: Tone }) {
  const theme = useTheme();
  return (
    <Text color={theme.color(tone)} dimColor={theme.dim(tone)} wrap="truncate-end">
      {text}
    </Text>
  );
});

/** "── Tasks 42 ── 3 done in 5 min · … ───": a pane's name, lit when it has the keys, and a few facts. */
export const PaneTitle = memo(function PaneTitle({
  label,
  detail,
  focused,
  width,
}: {
  label: string;
  detail: string;
  focused: boolean;
  width: number;
}) {
  const theme = useTheme();
  const name = ` ${clip(label, Math.max(1, width - 6))} `;
  const room = Math.max(0, width - 2 - displayWidth(name) - 2);
  // Cut at a phrase boundary, not in the middle of one.
  let facts = "";
  for (const part of detail ? detail.split(" · ") : []) {
    const next = facts ? `${facts} · ${part}` : part;
    if (displayWidth(next) + 2 > room) break;
    facts = next;
  }
  const tail = facts ? ` ${facts} ` : "";
  const rule = "─".repeat(Math.max(0, width - 2 - displayWidth(name) - displayWidth(tail)));
  return (
    <Text wrap="truncate-end">
      <Text dimColor>──</Text>
      <Text bold={focused} inverse={focused} color={focused ? undefined : theme.color("accent")}>
        {name}
      </Text>
      {tail}
      <Text dimColor>{rule}</Text>
    </Text>
  );
});

/** The whole id when it leaves room for the state in the pane's title, else its short form. */
function replyId(task: TaskView, width: number): string {
  return displayWidth(`── Reply ${task.id}  ${task.state} ──`) <= width ? task.id : shortTaskId(task.id);
}

interface ReplyPaneProps {
  task: TaskView | undefined;
  node: NodeView | undefined;
  width: number;
  height: number;
  now: number;
  /** Blank columns on its left, between it and the tasks. */
  gutter: number;
  /** It has the keys: its title is lit and the scroll keys move it. */
  focused: boolean;
  scroll: number;
  follow: boolean;
}

/** The selected task as the detail view shows it, following its end unless scrolled: the reply streams in here. */
const ReplyPane = memo(
  function ReplyPane({ task, node, width, height, now, gutter, focused, scroll, follow }: ReplyPaneProps) {
    const inner = Math.max(1, width - gutter);
    return (
      <Box flexDirection="column" width={width} height={height} paddingLeft={gutter} flexShrink={0}>
        <PaneTitle
          label={task ? `Reply ${replyId(task, inner)}` : "Reply"}
          detail={task ? task.state : ""}
          focused={focused}
          width={inner}
        />
        {task ? (
          <TaskDetail
            task={task}
            taskId={task.id}
            {...(node ? { node } : {})}
            scroll={scroll}
            follow={follow}
            width={inner}
            height={Math.max(1, height - 1)}
            now={now}
          />
        ) : (
          <Text dimColor wrap="truncate-end">
            {clip("  Select a task to see its reply here.", inner)}
          </Text>
        )}
      </Box>
    );
  },
  // The clock only moves ages in the detail lines: once a second is enough.
  (a, b) =>
    a.task === b.task &&
    a.node === b.node &&
    a.width === b.width &&
    a.height === b.height &&
    a.gutter === b.gutter &&
    a.focused === b.focused &&
    a.scroll === b.scroll &&
    a.follow === b.follow &&
    Math.floor(a.now / 1000) === Math.floor(b.now / 1000),
);
