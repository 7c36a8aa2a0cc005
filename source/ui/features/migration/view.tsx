import { Box, Text } from "ink";
import { clip, wrapLines } from "../../../present/text.js";
import type { Migration } from "../../state/app-state.js";
import { useTheme } from "../../theme.js";

export interface MigrationPanelProps {
  migration: Migration;
  width: number;
  height: number;
}

function headline(m: Migration): { text: string; tone: "info" | "error" | "ok" | "warn" | "muted" } {
  const what = m.rollback ? `Roll back ${m.node}` : `Migrate ${m.node} → ${m.to}`;
  switch (m.phase) {
    case "planning":
      return { text: `${what}: working out the plan (nothing moves yet)…`, tone: "info" };
    case "confirm":
      return { text: `${what}: this is the plan. Go ahead? (y/n below)`, tone: "warn" };
    case "planned":
      return { text: `${what}: plan only, nothing moved.`, tone: "muted" };
    case "running":
      return { text: `${what}: ${m.rollback ? "rolling back" : "migrating"}…`, tone: "info" };
    case "done":
      return { text: `${what}: done.`, tone: "ok" };
    case "failed":
      return {
        text: m.failedWhilePlanning ? `${what}: the plan does not work; nothing moved.` : `${what}: failed.`,
        tone: "error",
      };
  }
}

/**
 * The migration started from this session: the plan, then each step as the
 * facade reports it, and how it ended. Shows the newest lines that fit.
 */
export function MigrationPanel({ migration, width, height }: MigrationPanelProps) {
  const theme = useTheme();
  const head = headline(migration);
  // Indented lines (the plan's details) keep their indent, wrapped lines too.
  const body = migration.lines.flatMap((line) => {
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    const pad = " ".repeat(Math.min(indent, 8));
    return wrapLines(line.slice(indent), Math.max(10, width - 2 - pad.length)).map((l) => pad + l);
  });
  const footer =
    migration.phase === "planning" || migration.phase === "running"
      ? "Esc goes back; it goes on meanwhile and the status line says how it ended."
      : "Esc goes back.";
  const room = Math.max(1, height - 3);
  const hidden = Math.max(0, body.length - room);
  const shown =
    hidden > 0 ? [`… ${hidden} earlier line${hidden === 1 ? "" : "s"}`, ...body.slice(hidden + 1)] : body;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end" color={theme.color(head.tone)} dimColor={theme.dim(head.tone)}>
        {` ${clip(head.text, width - 1)}`}
      </Text>
      <Text> </Text>
      {shown.map((line, i) => {
        const failed = line.startsWith("✗ ");
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
          <Text key={i} wrap="truncate-end" color={failed ? theme.color("error") : undefined}>
            {` ${line === "" ? " " : line}`}
          </Text>
        );
      })}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate-end">
        {` ${footer}`}
      </Text>
    </Box>
  );
}
