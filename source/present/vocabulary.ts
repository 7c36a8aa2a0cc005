import type { NodeState, NodeView, TaskView } from "../core/domain/federation-types.js";
import { shortTaskId } from "../core/domain/ids.js";
import type { TaskState } from "../core/domain/schema.js";
import type { Column, Tone } from "./columns.js";
import { formatAge } from "./text.js";

/**
 * The words both faces use for nodes and tasks: column names and order, the empty-cell mark,
 * state words and their tones. The CLI prints these columns as plain text (renderColumns), the
 * control center draws them (Table); each maps a tone to its colour.
 */

/** A cell with nothing to say. */
export const EMPTY_CELL = "—";

/** Below this width a table shows the short form of task ids (their last 8 hex digits). */
export const SHORT_ID_BELOW = 120;

export function nodeStateTone(state: NodeState): Tone {
  switch (state) {
    case "online":
      return "ok";
    case "degraded":
    case "stale":
    case "asleep":
      return "warn";
    case "unreachable":
    case "misconfigured":
      return "error";
    default:
      return "muted";
  }
}

export function taskStateTone(state: TaskState): Tone {
  switch (state) {
    case "completed":
      return "ok";
    case "failed":
      return "error";
    case "running":
    case "claimed":
      return "info";
    case "pending":
      return "accent";
    default:
      return "muted";
  }
}

/** Every task the board holds, archived ones included (a listing counts the tasks it does not read). */
export function totalOf(counts: Partial<Record<TaskState, number>>): number {
  return Object.values(counts).reduce((a: number, b) => a + (b ?? 0), 0);
}

/** Nodes by id, in both faces. */
export function compareNodes(a: NodeView, b: NodeView): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function nodeAddress(node: NodeView): string {
  return node.port === null ? EMPTY_CELL : `${node.host}:${node.port}`;
}

export function latencyText(ms: number | undefined): string {
  return ms === undefined ? EMPTY_CELL : `${Math.round(ms)} ms`;
}

/** "5m ago", or the empty mark when the worker never reported. */
export function heartbeatText(iso: string | undefined, now: number): string {
  return iso ? `${formatAge(iso, now)} ago` : EMPTY_CELL;
}

export function routeText(task: TaskView): string {
  return task.target === task.node ? task.node : `${task.target}→${task.node}`;
}

/**
 * A gateway that was probed and does not answer, or answers wrongly: its address is what a
 * user needs to fix it (a silent node of another machine is fixed there, by its worker).
 */
const DOWN: ReadonlySet<NodeState> = new Set(["unreachable", "misconfigured"]);

/**
 * Columns are dropped from the highest `drop` first when the width is short (see fitColumns).
 * While a node in `rows` is down, ADDRESS is the last to give way after REASON (a down
 * gateway has no latency to show, and its address is where to look); otherwise it gives way
 * early, to the latency and its trend.
 */
export function nodeColumns(now: number, rows: readonly NodeView[] = []): Column<NodeView>[] {
  const addressDrop = rows.some((n) => DOWN.has(n.status)) ? 1 : 7;
  return [
    { id: "id", header: "NODE", drop: 0, value: (n) => n.id, max: 24 },
    { id: "status", header: "STATUS", drop: 0, value: (n) => n.status, tone: (n) => nodeStateTone(n.status) },
    {
      id: "reason",
      header: "REASON",
      drop: 2,
      value: (n) => n.reason,
      flex: true,
      min: 24,
      tone: () => "muted",
    },
    { id: "transport", header: "TRANSPORT", drop: 3, value: (n) => n.transport },
    { id: "address", header: "ADDRESS", drop: addressDrop, value: nodeAddress, max: 28 },
    { id: "latency", header: "LATENCY", drop: 6, align: "right", value: (n) => latencyText(n.latencyMs) },
    // Pending, claimed and running tasks: not all of them run ("RUN 1" for a queued task misled).
    { id: "active", header: "ACTIVE", drop: 4, align: "right", value: (n) => String(n.inFlight) },
    {
      id: "heartbeat",
      header: "HEARTBEAT",
      drop: 5,
      align: "right",
      value: (n) => heartbeatText(n.lastHeartbeatAt, now),
    },
    // Notes cut to a few letters say nothing: they go before REASON has to be cut.
    { id: "notes", header: "NOTES", drop: 8, value: (n) => n.notes ?? "", flex: true, min: 12 },
  ];
}

export function taskColumns(now: number, width: number): Column<TaskView>[] {
  const id = width < SHORT_ID_BELOW ? (t: TaskView) => shortTaskId(t.id) : (t: TaskView) => t.id;
  return [
    { id: "id", header: "TASK", drop: 0, value: id, max: 32 },
    { id: "route", header: "TARGET→NODE", drop: 3, value: routeText, max: 26 },
    { id: "state", header: "STATE", drop: 0, value: (t) => t.state, tone: (t) => taskStateTone(t.state) },
    { id: "priority", header: "PRI", drop: 4, value: (t) => t.priority },
    { id: "age", header: "AGE", drop: 5, align: "right", value: (t) => formatAge(t.createdAt, now) },
    { id: "attempt", header: "TRY", drop: 6, align: "right", value: (t) => `${t.attempt}/${t.maxAttempts}` },
    { id: "text", header: "DESCRIPTION", drop: 0, value: (t) => t.text, flex: true, min: 12 },
  ];
}
