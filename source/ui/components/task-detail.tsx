import { Box, Text } from "ink";
import type { DispatchOutcome, NodeView, TaskView } from "../../core/domain/federation-types.js";
import { safe } from "../../present/safe-text.js";
import { buildDetailLines, type DetailLine } from "../detail-lines.js";
import { scrollWindow } from "../scroll.js";
import { useTheme } from "../theme.js";

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
  return (
    <Box flexDirection="column" width={width} height={height}>
      {scrollWindow(lines.length, start, height).map((row, i) => {
        if ("marker" in row) {
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
            <Text key={i} wrap="truncate-end" dimColor>
              {row.marker}
            </Text>
          );
        }
        const line: DetailLine = lines[row.line] ?? { text: safe`` };
        return (
          <Text
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
            key={i}
            wrap="truncate-end"
            bold={line.bold ?? false}
            color={theme.color(line.tone)}
            dimColor={theme.dim(line.tone)}
          >
            {line.text === "" ? " " : line.text}
          </Text>
        );
      })}
    </Box>
  );
}
