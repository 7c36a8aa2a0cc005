import type { Budget, FederationConfig, NodeStatusRecord, Price } from "./schema.js";

/**
 * Tokens and what they cost, per node and for the federation, today and over 7 days, and how
 * close each daily budget is. Pure: the tallies come from usage-ledger.ts and the heartbeats.
 */

/** Tokens of one node on one local day and model, over `tasks` completed turns. */
export type DayUsage = NonNullable<NodeStatusRecord["usage"]>[number];

export interface UsageTotals {
  prompt: number;
  completion: number;
  tasks: number;
  /** Money by currency, for the tokens that have a price. */
  cost: Record<string, number>;
}

export interface UsageWindow {
  today: UsageTotals;
  week: UsageTotals;
}

/** How close one daily cap is; `line` says why a task waits once it is reached. */
export interface BudgetView {
  percent: number;
  reached: boolean;
  /** "node alpha reached its daily budget (N/M tokens); resets at 00:00 or raise budgets.alpha in federation.json" */
  line: string;
}

/** Days of usage kept and shown ("7 days" includes today). */
export const USAGE_DAYS = 7;

/** The local calendar day of `date`, as YYYY-MM-DD. */
export function localDay(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`;
}

/** Today and the days before it, newest first. */
export function recentDays(now: Date, days = USAGE_DAYS): string[] {
  const out: string[] = [];
  for (let i = 0; i < days; i++) {
    out.push(localDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() - i, 12)));
  }
  return out;
}

export function emptyTotals(): UsageTotals {
  return { prompt: 0, completion: 0, tasks: 0, cost: {} };
}

/** Per million tokens: the node's own price first, then its model's. */
export function priceFor(
  prices: FederationConfig["prices"],
  node: string,
  model: string | undefined,
): Price | undefined {
  return prices?.[node] ?? (model ? prices?.[model] : undefined);
}

export function addTotals(into: UsageTotals, add: UsageTotals): UsageTotals {
  into.prompt += add.prompt;
  into.completion += add.completion;
  into.tasks += add.tasks;
  for (const [currency, amount] of Object.entries(add.cost))
    into.cost[currency] = (into.cost[currency] ?? 0) + amount;
  return into;
}

/** One node's tallies summed for today and the last 7 days, priced where a price is known. */
export function windowOf(
  node: string,
  tallies: readonly DayUsage[],
  prices: FederationConfig["prices"],
  now: Date,
): UsageWindow {
  const days = recentDays(now);
  const window = { today: emptyTotals(), week: emptyTotals() };
  for (const t of tallies) {
    if (!days.includes(t.day)) continue;
    const price = priceFor(prices, node, t.model);
    const cost: Record<string, number> = price
      ? { [price.currency]: (t.prompt * price.prompt + t.completion * price.completion) / 1_000_000 }
      : {};
    const totals = { prompt: t.prompt, completion: t.completion, tasks: t.tasks, cost };
    addTotals(window.week, totals);
    if (t.day === days[0]) addTotals(window.today, totals);
  }
  return window;
}

/** The federation's totals: every node's together. */
export function federationWindow(windows: readonly (UsageWindow | undefined)[]): UsageWindow {
  const out = { today: emptyTotals(), week: emptyTotals() };
  for (const w of windows) {
    if (!w) continue;
    addTotals(out.today, w.today);
    addTotals(out.week, w.week);
  }
  return out;
}

/** Adds up tallies of the same day and model (two machines' records of one node). */
export function mergeTallies(lists: readonly (readonly DayUsage[])[]): DayUsage[] {
  const byKey = new Map<string, DayUsage>();
  for (const list of lists) {
    for (const t of list) {
      const key = `${t.day}\u0000${t.model ?? ""}`;
      const had = byKey.get(key);
      if (had) {
        had.prompt += t.prompt;
        had.completion += t.completion;
        had.tasks += t.tasks;
      } else byKey.set(key, { ...t });
    }
  }
  return [...byKey.values()];
}

/**
 * How close today's usage is to a cap, and the line a waiting task shows once it is reached.
 * A cap in tokens and money: the closer of the two counts.
 */
export function budgetOf(
  cap: Budget,
  today: UsageTotals,
  scope: { node: string } | "federation",
): BudgetView {
  const tokens = today.prompt + today.completion;
  const money = today.cost[cap.currency] ?? 0;
  const measures: { used: number; limit: number; text: string }[] = [];
  if (cap.tokens !== undefined)
    measures.push({ used: tokens, limit: cap.tokens, text: `${tokens}/${cap.tokens} tokens` });
  if (cap.money !== undefined)
    measures.push({
      used: money,
      limit: cap.money,
      text: `${money.toFixed(2)}/${cap.money.toFixed(2)} ${cap.currency}`,
    });
  const worst = measures.sort((a, b) => b.used / b.limit - a.used / a.limit)[0] ?? {
    used: 0,
    limit: 1,
    text: "",
  };
  const who = scope === "federation" ? "the federation" : `node ${scope.node}`;
  const setting = scope === "federation" ? "budget" : `budgets.${scope.node}`;
  const line = `${who} reached its daily budget (${worst.text}); resets at 00:00 or raise ${setting} in federation.json`;
  return {
    percent: Math.floor((worst.used / worst.limit) * 100),
    reached: worst.used >= worst.limit,
    line,
  };
}

/**
 * The budget that binds a node: its own cap, or the federation's once that is reached or
 * closer. undefined when neither is set.
 */
export function bindingBudget(
  node: string,
  own: UsageTotals,
  federation: UsageTotals,
  config: Pick<FederationConfig, "budgets" | "budget">,
): BudgetView | undefined {
  const cap = config.budgets?.[node];
  const mine = cap ? budgetOf(cap, own, { node }) : undefined;
  const all = config.budget ? budgetOf(config.budget, federation, "federation") : undefined;
  if (!mine || !all) return mine ?? all;
  if (mine.reached) return mine;
  return all.reached || all.percent > mine.percent ? all : mine;
}
