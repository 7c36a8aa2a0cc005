import { Text } from "ink";
import type { TaskView } from "../../core/domain/federation-types.js";
import type { Column } from "../../present/columns.js";
import { clip, formatAge } from "../../present/text.js";
import type { TableCursor } from "../state/navigation.js";
import { taskStateTone } from "../theme.js";
import { Table } from "./table.js";

function route(task: TaskView): string {
  return task.target === task.node ? task.node : `${task.target}→${task.node}`;
}

export function taskColumns(now: number): Column<TaskView>[] {
  return [
    { id: "id", header: "TASK", drop: 0, value: (t) => t.id, max: 32 },
    { id: "route", header: "TARGET→NODE", drop: 3, value: route, max: 26 },
    { id: "state", header: "STATE", drop: 0, value: (t) => t.state, tone: (t) => taskStateTone(t.state) },
    { id: "priority", header: "PRI", drop: 4, value: (t) => t.priority },
    { id: "age", header: "AGE", drop: 5, align: "right", value: (t) => formatAge(t.createdAt, now) },
    { id: "text", header: "DESCRIPTION", drop: 0, value: (t) => t.text, flex: true, min: 12 },
  ];
}

export interface TasksViewProps {
  rows: readonly TaskView[];
  table: TableCursor;
  marks: readonly string[];
  filter: string;
  totalTasks: number;
  width: number;
  height: number;
  now: number;
  dispatchKey: string | null;
  /** The federation has no node yet: nothing can be dispatched. */
  noNodes?: boolean;
}

export function TasksView({
  rows,
  table,
  marks,
  filter,
  totalTasks,
  width,
  height,
  now,
  dispatchKey,
  noNodes = false,
}: TasksViewProps) {
  const empty =
    totalTasks === 0 && noNodes ? (
      <Text dimColor>No tasks yet, and no node to run one: add a node first (on the Nodes view).</Text>
    ) : totalTasks === 0 ? (
      <Text dimColor>No tasks yet.{dispatchKey ? ` Press ${dispatchKey} to dispatch one.` : ""}</Text>
    ) : (
      <Text dimColor>No task matches “{clip(filter, Math.max(1, width - 30))}” (Esc clears the filter).</Text>
    );
  return (
    <Table
      columns={taskColumns(now)}
      volatile={(t) => formatAge(t.createdAt, now)}
      rows={rows}
      rowKey={(t) => t.id}
      cursor={table.cursor}
      offset={table.offset}
      height={height - 1}
      width={width}
      marks={new Set(marks)}
      empty={empty}
    />
  );
}
