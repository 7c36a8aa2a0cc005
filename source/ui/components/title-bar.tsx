import { Box, Text } from "ink";
import { memo } from "react";
import { shortTaskId } from "../../core/domain/ids.js";
import { clip, displayWidth } from "../../present/text.js";
import { SHORT_ID_BELOW } from "../../present/vocabulary.js";
import type { Screen, TableName } from "../state/app-state.js";
import { useTheme } from "../theme.js";

export interface TitleBarProps {
  title: string;
  active: TableName;
  top: Screen;
  nodeCount: number;
  taskCount: number;
  /** "5/240" position in the active table, or "" */
  position: string;
  filter: string;
  readonly: boolean;
  helpKey: string | null;
  /** This machine's worker in a few words ("worker: background 1234"), or "". */
  worker: string;
  /** The same without the pid: taken when the full one leaves no room for where we are. */
  workerShort?: string;
  width: number;
}

function Tab({ label, active }: { label: string; active: boolean }) {
  const theme = useTheme();
  return (
    <Text inverse={active} bold={active} color={active ? undefined : theme.color("accent")}>
      {` ${label} `}
    </Text>
  );
}

/** App name, the two panes, where we are, the filter in force and a read-only badge. */
export const TitleBar = memo(function TitleBar(props: TitleBarProps) {
  const { title, active, top, nodeCount, taskCount, position, filter, readonly, helpKey, width } = props;
  const theme = useTheme();
  const crumb =
    top.kind === "detail"
      ? ` › ${width < SHORT_ID_BELOW ? shortTaskId(top.taskId) : top.taskId}`
      : top.kind === "dispatch"
        ? " › dispatch"
        : top.kind === "migrate"
          ? " › migrate"
          : position
            ? ` ${position}`
            : "";
  const left = ` ${clip(title, 40)} `;
  const tabs = ` Nodes ${nodeCount}  Tasks ${taskCount} `;
  const filterText = filter ? `  /${filter}` : "";
  const rightWith = (worker: string) =>
    `${worker ? `${worker}  ` : ""}${readonly ? "READ-ONLY " : ""}${helpKey ? `${helpKey} help` : ""}`;
  const roomBeside = (right: string) =>
    Math.max(0, width - displayWidth(left) - displayWidth(tabs) - displayWidth(right) - 2);
  // Where we are ("› dispatch", a task's id) matters more than the worker's pid.
  let right = rightWith(props.worker);
  if (props.workerShort !== undefined && displayWidth(`${crumb}${filterText}`) > roomBeside(right))
    right = rightWith(props.workerShort);
  const middle = clip(`${crumb}${filterText}`, roomBeside(right));
  const gap = Math.max(
    1,
    width - displayWidth(left) - displayWidth(tabs) - displayWidth(middle) - displayWidth(right),
  );
  return (
    <Box width={width}>
      <Text wrap="truncate-end">
        <Text bold color={theme.color("accent")}>
          {left}
        </Text>
        <Tab label={`Nodes ${nodeCount}`} active={active === "nodes" && top.kind === "nodes"} />
        <Tab label={`Tasks ${taskCount}`} active={active === "tasks" && top.kind === "tasks"} />
        <Text dimColor>{middle}</Text>
        {" ".repeat(gap)}
        <Text bold={readonly} color={readonly ? theme.color("error") : undefined}>
          {right}
        </Text>
      </Text>
    </Box>
  );
});
