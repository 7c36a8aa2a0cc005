import { Text } from "ink";
import type { DispatchOutcome, NodeView, TaskView } from "../../core/domain/federation-types.js";
import { safe } from "../../present/safe-text.js";
import { buildDetailLines, type DetailLine } from "../detail-lines.js";
import { useTheme } from "../theme.js";
import { ScrolledRows } from "./scrolled-rows.js";

export interface TaskDetailProps {
  task: TaskView | undefined;
  taskId: string;
  outcome?: DispatchOutcome;
  /** The node the task is on, for why a pending task waits. */
  node?: NodeView;
  scroll: number;
  follow: boolean;
  width: number;
  height: number;
  now: number;
}

/**
 * Everything about one task; the reply streams in as snapshots arrive. Scrolls;
 * follows the end by default. Hidden lines above or below are announced.
 */
export function TaskDetail({
  task,
  taskId,
  outcome,
  node,
  scroll,
  follow,
  width,
  height,
  now,
}: TaskDetailProps) {
  const theme = useTheme();
  const lines = buildDetailLines(task, width, now, { id: taskId, ...(outcome ? { outcome } : {}) }, node);
  const max = Math.max(0, lines.length - height);
  const start = follow ? max : Math.min(scroll, max);
  const renderLine = (index: number, key: number) => {
    const line: DetailLine = lines[index] ?? { text: safe`` };
    return (
      <Text
        key={key}
        wrap="truncate-end"
        bold={line.bold ?? false}
        color={theme.color(line.tone)}
        dimColor={theme.dim(line.tone)}
      >
        {line.text === "" ? " " : line.text}
      </Text>
    );
  };
  return (
    <ScrolledRows count={lines.length} start={start} width={width} height={height} renderLine={renderLine} />
  );
}
