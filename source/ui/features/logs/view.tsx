import { Box, Text } from "ink";
import { logLine } from "../../../present/log-lines.js";
import { clip } from "../../../present/text.js";
import { useTheme } from "../../theme.js";
import { type LogsState, visibleEntries } from "./state.js";

export interface LogsViewProps {
  logs: LogsState;
  width: number;
  height: number;
}

const LEVEL_TONES: Record<string, "error" | "warn"> = { error: "error", fatal: "error", warn: "warn" };

/** A node's log: a header (which node, from where, the filter), then the lines that fit, newest last. */
export function LogsView({ logs, width, height }: LogsViewProps) {
  const theme = useTheme();
  const lines = visibleEntries(logs);
  const rows = Math.max(1, height - 1);
  const end = Math.max(0, lines.length - logs.fromEnd);
  const shown = lines.slice(Math.max(0, end - rows), end);
  const filter = logs.editing
    ? ` · filter: ${logs.editing.text}▏`
    : logs.filter
      ? ` · filter "${logs.filter}" (${lines.length} of ${logs.entries.length})`
      : "";
  const where = logs.fromEnd > 0 ? ` · ${logs.fromEnd} newer below` : " · following";
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">
        {clip(` Log of ${logs.node} · ${logs.origin}${filter}${where}`, width)}
      </Text>
      {shown.length === 0 ? (
        <Text dimColor wrap="truncate-end">
          {clip(logs.entries.length ? "  No line matches the filter." : "  No lines yet.", width)}
        </Text>
      ) : (
        shown.map((entry, i) => {
          const tone = LEVEL_TONES[entry.level];
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
            <Text key={i} wrap="truncate-end" color={theme.color(tone)} dimColor={theme.dim(tone)}>
              {clip(` ${logLine(entry)}`, width)}
            </Text>
          );
        })
      )}
    </Box>
  );
}
