import { Box } from "ink";
import { primaryKey } from "../keymap.js";
import { bodyHeight, clampSize } from "../layout.js";
import { type AppState, activeTable, topScreen } from "../state/app-state.js";
import { findTask, selectNodeRows, selectTaskRows } from "../state/rows.js";
import { DispatchForm } from "./dispatch-form.js";
import { HelpOverlay } from "./help-overlay.js";
import { FirstRunPanel, NodesView } from "./nodes-view.js";
import { StatusBar } from "./status-bar.js";
import { TaskDetail } from "./task-detail.js";
import { TasksView } from "./tasks-view.js";
import { TitleBar } from "./title-bar.js";

export interface ControlCenterProps {
  state: AppState;
  now: number;
  title?: string;
}

/** The whole screen for one state: title bar, the current view, two status lines. Pure: state in, frame out. */
export function ControlCenter({ state, now, title = "ClawOS Federation" }: ControlCenterProps) {
  const size = clampSize(state.size);
  const width = size.columns;
  const height = bodyHeight(state.size);
  const top = topScreen(state);
  const active = activeTable(state);
  const nodeRows = selectNodeRows(state.snapshot, state.nodes.filter);
  const taskRows = selectTaskRows(state.snapshot, state.tasks.filter);
  const firstRun = state.snapshot.nodes.length === 0;
  const rowsOf = active === "nodes" ? nodeRows : taskRows;
  const table = active === "nodes" ? state.nodes : state.tasks;
  const position = rowsOf.length > 0 ? `${Math.min(table.cursor + 1, rowsOf.length)}/${rowsOf.length}` : "";

  let body: React.ReactNode;
  if (state.help) {
    body = (
      <HelpOverlay
        keymap={state.keymap}
        readonly={state.readonly}
        scroll={state.help.scroll}
        width={width}
        height={height}
      />
    );
  } else if (top.kind === "dispatch" && state.form) {
    body = <DispatchForm form={state.form} width={width} />;
  } else if (top.kind === "detail") {
    body = (
      <TaskDetail
        task={findTask(state.snapshot, top.taskId)}
        taskId={top.taskId}
        {...(top.outcome ? { outcome: top.outcome } : {})}
        scroll={state.detail.scroll}
        follow={state.detail.follow}
        width={width}
        height={height}
        now={now}
      />
    );
  } else if (top.kind === "tasks") {
    body = (
      <TasksView
        rows={taskRows}
        table={state.tasks}
        marks={state.tasks.marks}
        filter={state.tasks.filter}
        totalTasks={state.snapshot.tasks.length}
        width={width}
        height={height}
        now={now}
        dispatchKey={state.readonly ? null : primaryKey(state.keymap, "dispatch")}
      />
    );
  } else if (firstRun) {
    body = (
      <FirstRunPanel
        discovery={state.discovery}
        discoverKey={primaryKey(state.keymap, "discover")}
        readonly={state.readonly}
        width={width}
      />
    );
  } else {
    body = (
      <NodesView
        rows={nodeRows}
        table={state.nodes}
        filter={state.nodes.filter}
        width={width}
        height={height}
        now={now}
      />
    );
  }

  return (
    <Box flexDirection="column" width={width} height={size.rows}>
      <TitleBar
        title={title}
        active={active}
        top={top}
        nodeCount={state.snapshot.nodes.length}
        taskCount={state.snapshot.tasks.length}
        position={top.kind === "nodes" || top.kind === "tasks" ? position : ""}
        filter={top.kind === "nodes" || top.kind === "tasks" ? state[active].filter : ""}
        readonly={state.readonly}
        helpKey={primaryKey(state.keymap, "help")}
        width={width}
      />
      <Box flexDirection="column" height={height} overflow="hidden">
        {body}
      </Box>
      <StatusBar
        snapshot={state.snapshot}
        now={now}
        input={state.input}
        confirm={state.confirm}
        message={state.message}
        lastError={state.snapshot.lastError}
        keymap={state.keymap}
        readonly={state.readonly}
        width={width}
      />
    </Box>
  );
}
