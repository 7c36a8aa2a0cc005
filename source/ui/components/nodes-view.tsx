import { Box, Text } from "ink";
import type { NodeView } from "../../core/federation-types.js";
import type { Column } from "../columns.js";
import type { Discovery } from "../state/app-state.js";
import type { TableCursor } from "../state/navigation.js";
import { clip, formatAge } from "../text.js";
import { nodeStateTone, useTheme } from "../theme.js";
import { Table } from "./table.js";

function endpoint(node: NodeView): string {
  if (node.port === null) return node.transport === "planned" ? "planned" : "—";
  return `${node.host}:${node.port}`;
}

export function nodeColumns(now: number): Column<NodeView>[] {
  return [
    { id: "id", header: "NODE", drop: 0, value: (n) => n.id, max: 24 },
    { id: "status", header: "STATUS", drop: 0, value: (n) => n.status, tone: (n) => nodeStateTone(n.status) },
    {
      id: "reason",
      header: "WHY",
      drop: 2,
      value: (n) => n.reason,
      flex: true,
      min: 18,
      tone: () => "muted",
    },
    { id: "transport", header: "VIA", drop: 3, value: (n) => n.transport },
    { id: "endpoint", header: "ENDPOINT", drop: 7, value: endpoint, max: 28 },
    {
      id: "latency",
      header: "LAT",
      drop: 6,
      align: "right",
      value: (n) => (n.latencyMs === undefined ? "—" : `${Math.round(n.latencyMs)}ms`),
    },
    { id: "inFlight", header: "RUN", drop: 4, align: "right", value: (n) => String(n.inFlight) },
    {
      id: "heartbeat",
      header: "BEAT",
      drop: 5,
      align: "right",
      value: (n) => formatAge(n.lastHeartbeatAt, now),
    },
    { id: "notes", header: "NOTES", drop: 8, value: (n) => n.notes ?? "", flex: true, min: 8 },
  ];
}

export interface NodesViewProps {
  rows: readonly NodeView[];
  table: TableCursor;
  filter: string;
  width: number;
  height: number;
  now: number;
}

export function NodesView({ rows, table, filter, width, height, now }: NodesViewProps) {
  return (
    <Table
      columns={nodeColumns(now)}
      rows={rows}
      rowKey={(n) => n.id}
      cursor={table.cursor}
      offset={table.offset}
      height={height - 1}
      width={width}
      empty={
        <Text dimColor>
          No node matches “{clip(filter, Math.max(1, width - 30))}” (Esc clears the filter).
        </Text>
      }
    />
  );
}

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
        <Text bold>clawos init</Text>
        {"   finds local OpenClaw profiles (~/.openclaw*)"}
      </Text>
      <Text wrap="truncate-end">
        {"  "}
        <Text bold>clawos nodes add ID --port 18789</Text>
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
          Press <Text bold>{discoverKey}</Text> to look for local OpenClaw profiles now (same as clawos init).
        </Text>
      ) : null}
    </Box>
  );
}
