import { Box, Text } from "ink";
import type { DispatchOutcome, TaskView } from "../../core/federation-types.js";
import { buildDetailLines } from "../detail-lines.js";
import { useTheme } from "../theme.js";

export interface TaskDetailProps {
  task: TaskView | undefined;
  taskId: string;
  outcome?: DispatchOutcome;
  scroll: number;
  follow: boolean;
  width: number;
  height: number;
  now: number;
}

/** Everything about one task; the reply streams in as snapshots arrive. Scrolls; follows the end by default. */
export function TaskDetail({ task, taskId, outcome, scroll, follow, width, height, now }: TaskDetailProps) {
  const theme = useTheme();
  const lines = buildDetailLines(task, width, now, { id: taskId, ...(outcome ? { outcome } : {}) });
  const max = Math.max(0, lines.length - height);
  const start = follow ? max : Math.min(scroll, max);
  const visible = lines.slice(start, start + height);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {visible.map((line, i) => (
        <Text
          // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
          key={start + i}
          wrap="truncate-end"
          bold={line.bold ?? false}
          color={theme.color(line.tone)}
          dimColor={theme.dim(line.tone)}
        >
          {line.text === "" ? " " : line.text}
        </Text>
      ))}
    </Box>
  );
}
