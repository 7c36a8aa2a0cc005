import type { FederationUsageView, NodeView, TaskView } from "../core/domain/federation-types.js";
import type { BudgetView, UsageTotals } from "../core/domain/usage.js";
import type { Column } from "./columns.js";
import { EMPTY_CELL } from "./vocabulary.js";

/** Tokens and budgets as both faces show them: "12.3k", "73%", the `status` usage line. */

/** 950 → "950", 12 345 → "12.3k", 4 500 000 → "4.5M". */
export function tokensText(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${trim(n / 1000)}k`;
  return `${trim(n / 1_000_000)}M`;
}

function trim(n: number): string {
  return n >= 100 ? String(Math.round(n)) : n.toFixed(1).replace(/\.0$/, "");
}

/** "0.42 USD", several currencies joined; "" with no price. */
export function costText(cost: Record<string, number>): string {
  return Object.entries(cost)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amount]) => `${moneyText(amount)} ${currency}`)
    .join(" + ");
}

/** Cents, or two significant digits below a cent (a few hundred tokens cost that little). */
export function moneyText(amount: number): string {
  if (amount === 0 || amount >= 0.01) return amount.toFixed(2);
  return amount.toPrecision(2);
}

/** "12.3k tokens (5 tasks, 0.42 USD)". */
export function totalsText(t: UsageTotals): string {
  const cost = costText(t.cost);
  return `${tokensText(t.prompt + t.completion)} tokens (${t.tasks} task${t.tasks === 1 ? "" : "s"}${cost ? `, ${cost}` : ""})`;
}

export function budgetText(budget: BudgetView | undefined): string {
  return budget ? `${budget.percent}%` : EMPTY_CELL;
}

/**
 * The federation's usage in `status` and the control center: one line when it fits `width`,
 * else today and 7 days on a line each (then clipped by the caller's table rules).
 */
export function usageLines(
  usage: FederationUsageView | undefined,
  width = Number.POSITIVE_INFINITY,
): string[] {
  if (!usage) return [];
  const budget = usage.budget ? ` · budget ${budgetText(usage.budget)}` : "";
  const one = `Usage: today ${totalsText(usage.today)} · 7 days ${totalsText(usage.week)}${budget}`;
  if (one.length <= width) return [one];
  return [`Usage today:  ${totalsText(usage.today)}${budget}`, `Usage 7 days: ${totalsText(usage.week)}`];
}

/** Whether there is usage to show: a turn this week reported tokens, or a budget is set. */
export function hasUsage(usage: FederationUsageView | undefined): usage is FederationUsageView {
  return usage !== undefined && (usage.week.tasks > 0 || usage.budget !== undefined);
}

/**
 * The control center's usage line: `status`'s whole line when it fits `width`, else today's
 * half with the budget (the caller cuts that to the width).
 */
export function usageSummary(usage: FederationUsageView | undefined, width: number): string | undefined {
  return hasUsage(usage) ? usageLines(usage, width)[0] : undefined;
}

/** The selected node's usage under the table: "today 1.2k tokens", "budget 73%". */
export function nodeUsageFacts(node: Pick<NodeView, "usage" | "budget">): string[] {
  const today = node.usage?.today;
  return [
    ...(today && (node.usage?.week.tasks ?? 0) > 0 ? [`today ${totalsText(today)}`] : []),
    ...(node.budget ? [`budget ${budgetText(node.budget)}${node.budget.reached ? " (reached)" : ""}`] : []),
  ];
}

/** `tasks show`: the tokens of a finished attempt, or the empty mark when none were reported. */
export function taskUsageText(task: Pick<TaskView, "usage">): string {
  const u = task.usage;
  if (!u) return EMPTY_CELL;
  return `${u.prompt + u.completion} (${u.prompt} prompt + ${u.completion} completion)`;
}

/**
 * The nodes table with TOKENS (today) and BUDGET before NOTES, only when some node has used
 * tokens or has a budget: a federation that never reported usage keeps the table it had.
 */
export function withUsageColumns(
  columns: Column<NodeView>[],
  nodes: readonly NodeView[],
): Column<NodeView>[] {
  const extra = usageColumns(nodes);
  if (extra.length === 0) return columns;
  const notes = columns.findIndex((c) => c.id === "notes");
  const at = notes < 0 ? columns.length : notes;
  return [...columns.slice(0, at), ...extra, ...columns.slice(at)];
}

function usageColumns(nodes: readonly NodeView[]): Column<NodeView>[] {
  const columns: Column<NodeView>[] = [];
  if (nodes.some((n) => (n.usage?.week.tasks ?? 0) > 0))
    columns.push({
      id: "tokens",
      header: "TOKENS",
      drop: 6.5,
      align: "right",
      value: (n) =>
        n.usage && n.usage.week.tasks > 0
          ? tokensText(n.usage.today.prompt + n.usage.today.completion)
          : EMPTY_CELL,
    });
  if (nodes.some((n) => n.budget))
    columns.push({
      id: "budget",
      header: "BUDGET",
      drop: 3.5,
      align: "right",
      value: (n) => budgetText(n.budget),
      tone: (n) => (n.budget?.reached ? "error" : (n.budget?.percent ?? 0) >= 80 ? "warn" : undefined),
    });
  return columns;
}
