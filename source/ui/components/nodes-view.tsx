import { Box, Text } from "ink";
import { memo } from "react";
import type { NodeView } from "../../core/domain/federation-types.js";
import type { Column } from "../../present/columns.js";
import { cmd } from "../../present/invocation.js";
import { latencyTrendColumn } from "../../present/sparkline.js";
import { clip, displayWidth, formatAge, wrapLines } from "../../present/text.js";
import { nodeUsageFacts, withUsageColumns } from "../../present/usage-text.js";
import { nodeColumns, nodeStateTone } from "../../present/vocabulary.js";
import type { Discovery } from "../state/app-state.js";
import type { TableCursor } from "../state/navigation.js";
import { useTheme } from "../theme.js";
import { Table } from "./table.js";

export interface NodesViewProps {
  rows: readonly NodeView[];
  table: TableCursor;
  filter: string;
  width: number;
  height: number;
  now: number;
  /** Rows under the table for the selected node in full (0: none). */
  infoRows?: number;
  /** The pane has the keys (the home screen shows the tasks too). */
  focused?: boolean;
}

export function NodesView({
  rows,
  table,
  filter,
  width,
  height,
  now,
  infoRows = 0,
  focused = true,
}: NodesViewProps) {
  const selected = rows[Math.min(table.cursor, rows.length - 1)];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box flexDirection="column">
        <Table
          columns={withTrend(withUsageColumns(nodeColumns(now, rows), rows), rows)}
          focused={focused}
          volatile={(n) => formatAge(n.lastHeartbeatAt, now)}
          rows={rows}
          rowKey={(n) => n.id}
          cursor={table.cursor}
          offset={table.offset}
          height={height - 1 - infoRows}
          width={width}
          empty={
            <Text dimColor>
              No node matches “{clip(filter, Math.max(1, width - 30))}” (Esc clears the filter).
            </Text>
          }
        />
      </Box>
      {infoRows > 0 && selected ? <NodeInfo node={selected} width={width} rows={infoRows} now={now} /> : null}
    </Box>
  );
}

const TREND = latencyTrendColumn<NodeView>();

/** The latency trend after LATENCY, once any node has one to show. */
function withTrend(columns: Column<NodeView>[], rows: readonly NodeView[]): Column<NodeView>[] {
  if (!rows.some((n) => (n.recentLatencyMs?.length ?? 0) > 0)) return columns;
  const at = columns.findIndex((c) => c.id === "latency");
  return [...columns.slice(0, at + 1), TREND, ...columns.slice(at + 1)];
}

/**
 * The node's facts in `lines` lines, most telling first (a line is cut at the right on a narrow
 * screen): what it does, then, given a second line, what it is, so no reserved row stays blank.
 */
function factLines(node: NodeView, now: number, lines: number): string[] {
  const doing = [
    node.port === null ? node.transport : `${node.transport} ${node.host}:${node.port}`,
    `${node.inFlight} active task${node.inFlight === 1 ? "" : "s"}`,
    ...nodeUsageFacts(node),
    node.lastHeartbeatAt ? `worker seen ${formatAge(node.lastHeartbeatAt, now)} ago` : "no worker heartbeat",
  ];
  const being = [
    `machine ${node.machine}`,
    ...(node.profile ? [`profile ${node.profile}`] : []),
    `agent ${node.agent}`,
    ...(node.tags.length > 0 ? [`tags ${node.tags.join(",")}`] : []),
    ...(node.notes ? [node.notes] : []),
  ];
  return lines >= 2 ? [doing.join(" · "), being.join(" · ")] : [[...doing, ...being].join(" · ")];
}

/**
 * The selected node in full, under the table: the table cuts the reason
 * ("The gateway of node alpha is not running on…") to its column, and a
 * person needs all of it to act.
 */
function NodeInfoView({
  node,
  width,
  rows,
  now,
}: {
  node: NodeView;
  width: number;
  rows: number;
  now: number;
}) {
  const theme = useTheme();
  const title = ` ${clip(node.id, 30)} `;
  const head = `${node.status}: `;
  const reason = wrapLines(node.reason, Math.max(10, width - 2 - head.length)).slice(
    0,
    Math.max(1, rows - 2),
  );
  const reasonRows = Math.max(1, reason.length);
  return (
    <Box flexDirection="column" width={width}>
      <Text dimColor wrap="truncate-end">
        {`──${title}${"─".repeat(Math.max(0, width - 2 - displayWidth(title)))}`}
      </Text>
      {Array.from({ length: reasonRows }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
        <Text key={i} wrap="truncate-end">
          {i === 0 ? (
            <Text color={theme.color(nodeStateTone(node.status))} bold>
              {` ${head}`}
            </Text>
          ) : (
            ` ${" ".repeat(head.length)}`
          )}
          {reason[i] ?? ""}
        </Text>
      ))}
      {factLines(node, now, rows - 1 - reasonRows).map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
        <Text key={`f${i}`} dimColor wrap="truncate-end">
          {` ${clip(line, width - 1)}`}
        </Text>
      ))}
    </Box>
  );
}

interface NodeInfoProps {
  node: NodeView;
  width: number;
  rows: number;
  now: number;
}

// The clock only moves the heartbeat's age: once a second is enough, not with every snapshot.
export const NodeInfo = memo(
  NodeInfoView,
  (a: NodeInfoProps, b: NodeInfoProps) =>
    a.node === b.node &&
    a.width === b.width &&
    a.rows === b.rows &&
    Math.floor(a.now / 1000) === Math.floor(b.now / 1000),
);

export interface FirstRunPanelProps {
  discovery: Discovery;
  discoverKey: string | null;
  readonly: boolean;
  width: number;
}

/** Shown when the federation has no node yet: how to add one, and discovery on a key. */
export function FirstRunPanel({ discovery, discoverKey, readonly, width }: FirstRunPanelProps) {
  const theme = useTheme();
  const w = Math.max(20, width - 4);
  return (
    <Box flexDirection="column" paddingX={2} paddingY={1} width={width}>
      <Text bold color={theme.color("accent")}>
        Welcome to ClawOS Federation: no nodes yet.
      </Text>
      <Text> </Text>
      <Text wrap="wrap">A node is one OpenClaw gateway. Add the ones you run:</Text>
      <Text wrap="truncate-end">
        {"  "}
        <Text bold>{cmd("init")}</Text>
        {"   finds local OpenClaw profiles (~/.openclaw*)"}
      </Text>
      <Text wrap="truncate-end">
        {"  "}
        <Text bold>{cmd("nodes add ID --port 18789")}</Text>
        {"   adds one by hand"}
      </Text>
      <Text> </Text>
      {readonly ? (
        <Text dimColor>This session is read-only: discovery is off here.</Text>
      ) : discovery.status === "running" ? (
        <Text color={theme.color("info")}>Looking for local OpenClaw profiles…</Text>
      ) : discovery.status === "done" ? (
        <Text wrap="wrap">
          {discovery.found.length > 0
            ? `Found and added: ${clip(discovery.found.join(", "), w)}.`
            : "Nothing found here. Is OpenClaw installed for this user? Add a node by hand as above."}
        </Text>
      ) : discovery.status === "failed" ? (
        <Text color={theme.color("error")} wrap="wrap">
          Discovery failed: {clip(discovery.error, w)}
        </Text>
      ) : discoverKey ? (
        <Text>
          Press <Text bold>{discoverKey}</Text> to look for local OpenClaw profiles now (same as {cmd("init")}
          ).
        </Text>
      ) : null}
    </Box>
  );
}
