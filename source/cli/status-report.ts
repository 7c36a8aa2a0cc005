import { ageSince } from "../core/domain/durations.js";
import type { NodeState, NodeView, TaskView } from "../core/domain/federation-types.js";
import type { TaskState } from "../core/domain/schema.js";
import { stalledInboxes } from "../core/federation/waiting.js";
import { type Safe, type SafeText, safe, safeLine } from "../present/safe-text.js";
import { renderTable } from "../present/table.js";
import { clip } from "../present/text.js";
import { totalOf } from "../present/vocabulary.js";

export interface StatusData {
  machine: string;
  blackboard: string;
  nodes: NodeView[];
  tasks: TaskView[];
  counts: Record<TaskState, number>;
  problems: string[];
  now: Date;
}

/** What the status views print, every string sanitized (toSafe): presenters take only this. */
export type SafeStatusData = Safe<StatusData>;

export const ACTIVE_STATES: TaskState[] = ["pending", "claimed", "running"];

export function address(node: Safe<NodeView>): SafeText {
  return node.port === null ? safe`TBD` : safe`${node.host}:${node.port}`;
}

/** "5m ago", or "-" for a time that is missing or not a time. */
function ago(iso: SafeText | undefined, now: number): SafeText {
  const age = ageSince(iso, now);
  return age === undefined ? safe`-` : safeLine(`${age} ago`);
}

/**
 * How wide the free-text columns (a reason, a description) may grow: most of a terminal's
 * width, since the table then leaves out its less useful columns to fit (renderTable); or
 * plenty when the output goes to a file or pipe, where nothing wraps.
 */
export function textColumnWidth(columns: number | undefined): number {
  return columns === undefined ? 160 : Math.min(160, Math.max(48, columns - 30));
}

export function renderNodesTable(nodes: Safe<NodeView>[], now: number, columns?: number): string {
  return renderTable(
    [
      { header: "NODE" },
      { header: "STATUS" },
      { header: "REASON", max: textColumnWidth(columns), flexible: true },
      { header: "TRANSPORT", dropOrder: 4 },
      { header: "ADDRESS", dropOrder: 5 },
      { header: "LATENCY", dropOrder: 3 },
      { header: "IN FLIGHT", dropOrder: 6 },
      { header: "HEARTBEAT", dropOrder: 2 },
      { header: "NOTES", max: 40, dropOrder: 1 },
    ],
    nodes.map((n) => [
      n.id,
      n.status,
      n.reason,
      n.transport,
      address(n),
      n.latencyMs !== undefined ? safe`${Math.round(n.latencyMs)} ms` : safe`-`,
      safe`${n.inFlight}`,
      ago(n.lastHeartbeatAt, now),
      n.notes ?? safe``,
    ]),
    columns === undefined ? {} : { width: columns },
  );
}

export function sortTasks<T extends TaskView>(tasks: T[]): T[] {
  const active = (t: TaskView) => (ACTIVE_STATES.includes(t.state) ? 0 : 1);
  return [...tasks].sort(
    (a, b) => active(a) - active(b) || b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
  );
}

export function renderTasksTable(tasks: Safe<TaskView>[], now: number, columns?: number): string {
  return renderTable(
    [
      { header: "TASK" },
      { header: "TARGET→NODE", max: 30 },
      { header: "STATE" },
      { header: "PRI", dropOrder: 3 },
      { header: "AGE", dropOrder: 2 },
      { header: "TRY", dropOrder: 1 },
      { header: "DESCRIPTION", max: Math.max(50, textColumnWidth(columns) - 20), flexible: true },
    ],
    sortTasks(tasks).map((t) => [
      t.id,
      t.target === t.node ? t.node : safe`${t.target}→${t.node}`,
      t.state,
      t.priority,
      safeLine(ageSince(t.createdAt, now) ?? "-"),
      safe`${t.attempt}/${t.maxAttempts}`,
      t.text,
    ]),
    columns === undefined ? {} : { width: columns },
  );
}

export function countsLine(counts: Record<TaskState, number>): string {
  return (Object.entries(counts) as [TaskState, number][]).map(([s, n]) => `${n} ${s}`).join(", ");
}

export function renderStatusText(
  data: SafeStatusData,
  options: { taskLimit?: number; columns?: number } = {},
): string {
  const now = data.now.getTime();
  const out: string[] = [];
  out.push(safe`ClawOS Federation on ${data.machine} — blackboard ${data.blackboard}`);
  out.push("");
  if (data.nodes.length === 0) {
    out.push(
      "No nodes yet. Run `clawos init` to find local OpenClaw profiles, or `clawos nodes add ID --port N`.",
    );
  } else {
    out.push(renderNodesTable(data.nodes, now, options.columns));
  }
  out.push("");
  out.push(`Tasks: ${countsLine(data.counts)}`);
  const shown = sortTasks(data.tasks).slice(0, options.taskLimit ?? 20);
  if (shown.length) out.push(renderTasksTable(shown, now, options.columns));
  const more = Math.max(data.tasks.length, totalOf(data.counts)) - shown.length;
  if (more > 0) out.push(`… ${more} more (clawos tasks list)`);
  // Built from sanitized ids and machine names; through the sanitizer again all the same.
  for (const line of stalledInboxes(data.tasks, data.nodes, now)) out.push(safe`note: ${safeLine(line)}`);
  for (const p of data.problems) out.push(safe`! ${p}`);
  return out.join("\n");
}

const MARKDOWN_STATUS: Record<NodeState, string> = {
  online: "✅ Online",
  stale: "⚠️ Stale",
  asleep: "💤 Asleep",
  unreachable: "❌ Unreachable",
  misconfigured: "⚠️ Misconfigured",
  planned: "❌ Planned",
  unknown: "❔ Unknown",
};

function md(text: SafeText, width = 80): string {
  return clip(text, width).replace(/\|/g, "\\|");
}

function localStamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}`;
}

/** The seed's FEDERATION_STATUS.md layout. */
export function renderStatusMarkdown(data: SafeStatusData): string {
  const tasks = sortTasks(data.tasks);
  const pending = tasks.filter((t) => ACTIVE_STATES.includes(t.state));
  const completed = tasks.filter((t) => t.state === "completed");
  const lines = [
    "# ClawOS Federation Status",
    "",
    `> Last Updated: ${localStamp(data.now)}`,
    "",
    "## Node Status",
    "",
    "| Node | Status | Transport | Port | Notes |",
    "|------|--------|-----------|------|-------|",
    ...data.nodes.map(
      (n) =>
        `| **${md(n.id)}** | ${MARKDOWN_STATUS[n.status as NodeState]} | ${n.transport === "planned" ? "blackboard" : n.transport} | ${n.port ?? "TBD"} | ${md(n.notes ? safe`${n.notes}; ${n.reason}` : n.reason)} |`,
    ),
    "",
    "## Communication Channels",
    "",
    "1. **localhost HTTP** - same-machine nodes (immediate, < 100ms)",
    "2. **Blackboard** - cross-machine normal tasks (workers watch their inbox)",
    "3. **Tailscale SSH** - cross-machine P0 urgent (seconds)",
    "",
    "## Pending Tasks",
    "",
    "| Task ID | Target | State | Description |",
    "|---------|--------|-------|-------------|",
    ...pending.map(
      (t) =>
        `| ${md(t.id)} | ${md(t.target === t.node ? t.target : safe`${t.target} → ${t.node}`)} | ${t.state} | ${md(t.text)} |`,
    ),
    "",
    "## Completed Tasks",
    "",
    "| Task ID | Node | Description |",
    "|---------|------|-------------|",
    ...completed.map((t) => `| ${md(t.id)} | ${md(t.node)} | ${md(t.text)} |`),
    "",
  ];
  return lines.join("\n");
}
