import type {
  FederationUsageView,
  MachineWorker,
  NodeState,
  NodeView,
  TaskView,
} from "../core/domain/federation-types.js";
import { ACTIVE_STATES, type TaskState } from "../core/domain/schema.js";
import { localeOrder } from "../core/domain/text-order.js";
import type { UsageTotals } from "../core/domain/usage.js";
import { stalledInboxes } from "../core/federation/waiting.js";
import { localStamp } from "../present/clock.js";
import { cmd, forInvocation } from "../present/invocation.js";
import { wrapProse } from "../present/prose.js";
import { type Safe, type SafeText, safe, safeLine } from "../present/safe-text.js";
import { renderColumns } from "../present/table.js";
import { clip, clipMiddle, displayWidth } from "../present/text.js";
import { budgetText, tokensText, usageLines, withUsageColumns } from "../present/usage-text.js";
import { compareNodes, EMPTY_CELL, nodeColumns, taskColumns, totalOf } from "../present/vocabulary.js";
import { workerLine } from "../present/worker-line.js";

export interface StatusData {
  machine: string;
  blackboard: string;
  nodes: NodeView[];
  tasks: TaskView[];
  counts: Record<TaskState, number>;
  problems: string[];
  now: Date;
  /** This machine's worker. */
  worker?: MachineWorker;
  /** Every node's tokens together, and the federation's budget. */
  usage?: FederationUsageView;
}

/** What the status views print, every string sanitized (toSafe): presenters take only this. */
export type SafeStatusData = Safe<StatusData>;

/** Piped output fits a terminal unless --wide asks for every column at full width. */
export const PIPED_WIDTH = 80;
const WIDE = 1000;

export function tableWidth(columns: number | undefined, wide = false): number {
  return wide ? WIDE : (columns ?? PIPED_WIDTH);
}

export function renderNodesTable(nodes: Safe<NodeView>[], now: number, width: number): string {
  const rows = [...nodes].sort(compareNodes);
  return renderColumns(
    withUsageColumns(nodeColumns(now, rows as NodeView[]), rows as NodeView[]),
    rows,
    width,
  );
}

export function sortTasks<T extends TaskView>(tasks: T[]): T[] {
  const active = (t: TaskView) => (ACTIVE_STATES.includes(t.state) ? 0 : 1);
  return [...tasks].sort(
    (a, b) => active(a) - active(b) || localeOrder(b.createdAt, a.createdAt) || localeOrder(b.id, a.id),
  );
}

export function renderTasksTable(tasks: Safe<TaskView>[], now: number, width: number): string {
  return renderColumns(taskColumns(now, width), sortTasks(tasks), width);
}

export function countsLine(counts: Record<TaskState, number>): string {
  return (Object.entries(counts) as [TaskState, number][]).map(([s, n]) => `${n} ${s}`).join(", ");
}

export function renderStatusText(
  data: SafeStatusData,
  /** `terminal`: the worker line is prose, wrapped to the width there (whole in a pipe). */
  options: { taskLimit?: number; width?: number; terminal?: boolean } = {},
): string {
  const now = data.now.getTime();
  const width = options.width ?? PIPED_WIDTH;
  const out: string[] = [];
  const head = safe`ClawOS Federation on ${data.machine} — blackboard `;
  out.push(`${head}${clipMiddle(data.blackboard, Math.max(20, width - displayWidth(head)))}`);
  out.push("");
  if (data.nodes.length === 0) {
    out.push(
      `No nodes yet. Run \`${cmd("init")}\` to find local OpenClaw profiles, or \`${cmd("nodes add ID --port N")}\`.`,
    );
  } else {
    out.push(renderNodesTable(data.nodes, now, width));
    const worker = safeLine(workerLine(data.worker as MachineWorker | undefined, now));
    out.push(options.terminal ? wrapProse(worker, width) : worker);
    for (const line of usageLines(data.usage as FederationUsageView | undefined, width))
      out.push(clip(safeLine(line), width));
  }
  out.push("");
  out.push(`Tasks: ${countsLine(data.counts)}`);
  const shown = sortTasks(data.tasks).slice(0, options.taskLimit ?? 20);
  if (shown.length) out.push(renderTasksTable(shown, now, width));
  const more = Math.max(data.tasks.length, totalOf(data.counts)) - shown.length;
  if (more > 0) out.push(`… ${more} more (${cmd("tasks list")})`);
  // Notes and problem lines stay whole, one per line, so they can be searched for; the tables fit.
  // Built from sanitized ids and machine names; through the sanitizer again all the same.
  for (const line of stalledInboxes(data.tasks, data.nodes, now))
    out.push(safe`note: ${safeLine(forInvocation(line))}`);
  for (const p of data.problems) out.push(safe`! ${p}`);
  return out.join("\n");
}

const MARKDOWN_STATUS: Record<NodeState, string> = {
  online: "✅ Online",
  degraded: "⚠️ Degraded",
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

/** The seed's channel lines, for the transports the nodes in this table use. */
function channelLines(nodes: SafeStatusData["nodes"]): string[] {
  const used = new Set<string>(nodes.map((n) => n.transport));
  const channels = [
    ...(used.has("localhost") ? ["**localhost HTTP** - same-machine nodes (immediate, < 100ms)"] : []),
    ...(used.has("blackboard") || used.has("planned")
      ? ["**Blackboard** - cross-machine normal tasks (workers watch their inbox)"]
      : []),
    ...(used.has("ssh") || nodes.some((n) => n.sshTarget)
      ? ["**SSH** - cross-machine P0 urgent, and nodes whose worker is silent (seconds)"]
      : []),
  ];
  return channels.map((c, i) => `${i + 1}. ${c}`);
}

/** A table only when it has rows; otherwise one line that says so. */
function tableOrNone(head: string[], rows: string[], none: string): string[] {
  return rows.length ? [...head, ...rows] : [none];
}

/** Tokens per node, today and over 7 days, and each budget: only once a node has either. */
function usageMarkdown(nodes: SafeStatusData["nodes"]): string[] {
  const used = (n: SafeStatusData["nodes"][number]) => (n.usage?.week.tasks ?? 0) > 0;
  if (!nodes.some((n) => used(n) || n.budget)) return [];
  const tokens = (t: UsageTotals | undefined, shown: boolean) =>
    t && shown ? tokensText(t.prompt + t.completion) : EMPTY_CELL;
  return [
    "## Usage",
    "",
    "| Node | Tokens today | Tokens 7 days | Budget |",
    "|------|--------------|---------------|--------|",
    ...nodes.map(
      (n) =>
        `| **${md(n.id)}** | ${tokens(n.usage?.today, used(n))} | ${tokens(n.usage?.week, used(n))} | ${budgetText(n.budget)} |`,
    ),
    "",
  ];
}

/** The seed's FEDERATION_STATUS.md layout. */
export function renderStatusMarkdown(data: SafeStatusData): string {
  const tasks = sortTasks(data.tasks);
  const pending = tasks.filter((t) => ACTIVE_STATES.includes(t.state));
  const completed = tasks.filter((t) => t.state === "completed");
  const nodes = [...data.nodes].sort(compareNodes);
  const lines = [
    "# ClawOS Federation Status",
    "",
    `> Last Updated: ${localStamp(data.now)}`,
    "",
    "## Node Status",
    "",
    ...tableOrNone(
      ["| Node | Status | Transport | Port | Notes |", "|------|--------|-----------|------|-------|"],
      nodes.map(
        (n) =>
          `| **${md(n.id)}** | ${MARKDOWN_STATUS[n.status as NodeState]} | ${n.transport === "planned" ? "blackboard" : n.transport} | ${n.port ?? "TBD"} | ${md(n.notes ? safe`${n.notes}; ${n.reason}` : n.reason)} |`,
      ),
      "No nodes yet.",
    ),
    "",
    ...usageMarkdown(nodes),
    ...(nodes.length ? ["## Communication Channels", "", ...channelLines(nodes), ""] : []),
    "## Pending Tasks",
    "",
    ...tableOrNone(
      ["| Task ID | Target | State | Description |", "|---------|--------|-------|-------------|"],
      pending.map(
        (t) =>
          `| ${md(t.id)} | ${md(t.target === t.node ? t.target : safe`${t.target} → ${t.node}`)} | ${t.state} | ${md(t.text)} |`,
      ),
      "None.",
    ),
    "",
    "## Completed Tasks",
    "",
    ...tableOrNone(
      ["| Task ID | Node | Description |", "|---------|------|-------------|"],
      completed.map((t) => `| ${md(t.id)} | ${md(t.node)} | ${md(t.text)} |`),
      "None.",
    ),
    "",
  ];
  return lines.join("\n");
}
