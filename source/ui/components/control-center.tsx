import { Box, Text } from "ink";
import type { TaskView } from "../../core/domain/federation-types.js";
import type { TaskState } from "../../core/domain/schema.js";
import { truncate, wrapLines } from "../../present/text.js";
import { totalOf } from "../../present/vocabulary.js";
import { workerBadge } from "../../present/worker-line.js";
import { primaryKey } from "../keymap.js";
import { bodyHeight, clampSize, MIN_SIZE } from "../layout.js";
import { SCREENS, screenOf } from "../screens.js";
import { type AppState, activeTable, topScreen } from "../state/app-state.js";
import { findTask, selectNodeRows, selectTaskRows } from "../state/rows.js";
import { messageLines, StatusBar } from "./status-bar.js";
import { TitleBar } from "./title-bar.js";

const NO_MARKS: readonly TaskState[] = [];

/** The states of the marked tasks, for the bulk actions the hints offer (no marks, the usual case, costs nothing). */
function markedStates(state: AppState): readonly TaskState[] {
  const { marks } = state.tasks;
  if (marks.length === 0) return NO_MARKS;
  return marks.flatMap((id) => findTask(state.snapshot, id)?.state ?? []);
}

export interface ControlCenterProps {
  state: AppState;
  now: number;
  title?: string;
}

/**
 * The whole screen for one state: title bar, the current view, two status lines. Pure: state in,
 * frame out. Which view, and its key hints, come from the screen registry (`screens.tsx`).
 */
export function ControlCenter({ state: full, now, title = "ClawOS Federation" }: ControlCenterProps) {
  if (full.size.columns < MIN_SIZE.columns || full.size.rows < MIN_SIZE.rows)
    return <TooSmall state={full} />;
  // A message that needs two lines takes a row from the body while it shows (never the key
  // hints' row); the body is laid out for the rows it has left.
  const messageRows =
    full.message &&
    full.size.rows > MIN_SIZE.rows &&
    messageLines(full.message, clampSize(full.size).columns, 2).length > 1
      ? 2
      : 1;
  const state = messageRows > 1 ? { ...full, size: { ...full.size, rows: full.size.rows - 1 } } : full;
  const size = clampSize(full.size);
  const width = size.columns;
  const height = bodyHeight(state.size);
  const top = topScreen(state);
  const active = activeTable(state);
  // The home shows both tables; under another screen only the table it came from is
  // sorted and filtered (10 000 tasks are not sorted for the help).
  const home = top.kind === "nodes" || top.kind === "tasks";
  const nodeRows = home || active === "nodes" ? selectNodeRows(state.snapshot, state.nodes.filter) : [];
  const taskRows = home || active === "tasks" ? selectTaskRows(state.snapshot, state.tasks.filter) : [];
  // Version 0 is a facade's placeholder before its first read: not "no nodes yet".
  const firstRun = state.snapshot.nodes.length === 0 && state.snapshot.version !== 0;
  const rowsOf = active === "nodes" ? nodeRows : taskRows;
  const table = active === "nodes" ? state.nodes : state.tasks;
  // "0/0" when a filter hides every row, so the title does not just go quiet.
  const position =
    rowsOf.length > 0
      ? `row ${Math.min(table.cursor + 1, rowsOf.length)}/${rowsOf.length}`
      : table.filter !== ""
        ? "row 0/0"
        : "";
  const screen = screenOf(state);
  const { body, bounded } = SCREENS[screen];

  return (
    <Box flexDirection="column" width={width} height={size.rows}>
      <TitleBar
        title={title}
        active={active}
        top={top}
        nodeCount={state.snapshot.nodes.length}
        taskCount={Math.max(state.snapshot.tasks.length, totalOf(state.snapshot.counts))}
        position={top.kind === "nodes" || top.kind === "tasks" ? position : ""}
        filter={top.kind === "nodes" || top.kind === "tasks" ? state[active].filter : ""}
        readonly={state.readonly}
        helpKey={primaryKey(state.keymap, "help")}
        worker={workerBadge(state.snapshot.worker)}
        workerShort={workerBadge(state.snapshot.worker, false)}
        width={width}
      />
      {/* Clipping costs Ink a second pass over every line of every frame (a quarter of
          its time with 10 000 tasks): only the views that can outgrow the body get it;
          tables, the detail view and the help are windowed to the body's height. */}
      <Box flexDirection="column" height={height} overflow={bounded ? "visible" : "hidden"}>
        {body({ state, now, width, height, nodeRows, taskRows, firstRun })}
      </Box>
      <StatusBar
        context={screen}
        marks={top.kind === "tasks" ? markedStates(state) : NO_MARKS}
        drilled={top.kind === "tasks" && top.drilledFrom !== undefined}
        empty={
          top.kind === "tasks" && taskRows.length === 0
            ? state.tasks.filter === ""
              ? "none"
              : "filtered"
            : false
        }
        task={selectedTaskState(state, taskRows)}
        snapshot={state.snapshot}
        now={now}
        input={state.input}
        confirm={state.confirm}
        message={state.message}
        messageRows={messageRows}
        lastError={state.snapshot.lastError}
        keymap={state.keymap}
        readonly={state.readonly}
        width={width}
      />
    </Box>
  );
}

/**
 * A terminal smaller than the smallest layout gets a plain note cut to its real
 * size: a 40-column frame on a 30-column terminal wraps into garbage. Keys still
 * work (q quits), and the full screen returns as soon as the terminal grows.
 */
function TooSmall({ state }: { state: AppState }) {
  const { columns, rows } = state.size;
  const quit = primaryKey(state.keymap, "quit");
  const width = Math.max(1, columns);
  const text = `Terminal too small (${columns}×${rows}): ClawOS needs ${MIN_SIZE.columns}×${MIN_SIZE.rows}. Enlarge the window${quit ? ` or press ${quit} to quit` : ""}.`;
  const lines = wrapLines(text, width).slice(0, Math.max(1, rows));
  return (
    <Box flexDirection="column" width={width} height={Math.max(1, rows)}>
      {lines.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
        <Text key={i} wrap="truncate-end">
          {truncate(line, width)}
        </Text>
      ))}
    </Box>
  );
}

/** The state of the task the row keys act on: the open task, or the selected row of the tasks table. */
function selectedTaskState(state: AppState, taskRows: readonly TaskView[]): TaskState | undefined {
  const top = topScreen(state);
  if (top.kind === "detail") return findTask(state.snapshot, top.taskId)?.state;
  if (top.kind !== "tasks") return undefined;
  return taskRows[Math.min(state.tasks.cursor, taskRows.length - 1)]?.state;
}
