import { Text } from "ink";
import type { TaskView } from "../../core/domain/federation-types.js";
import { clip, formatAge } from "../../present/text.js";
import { taskColumns } from "../../present/vocabulary.js";
import type { TableCursor } from "../state/navigation.js";
import { Table } from "./table.js";

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
  /** The pane has the keys (the home screen shows the nodes too). */
  focused?: boolean;
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
  focused = true,
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
      columns={taskColumns(now, width)}
      volatile={(t) => formatAge(t.createdAt, now)}
      rows={rows}
      rowKey={(t) => t.id}
      cursor={table.cursor}
      offset={table.offset}
      height={height - 1}
      width={width}
      marks={new Set(marks)}
      focused={focused}
      empty={empty}
    />
  );
}
