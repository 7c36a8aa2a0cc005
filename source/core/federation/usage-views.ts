import type { FederationUsageView, NodeView } from "../domain/federation-types.js";
import type { RoutableNode } from "../domain/router.js";
import type { FederationConfig, NodeStatusRecord } from "../domain/schema.js";
import {
  type BudgetView,
  bindingBudget,
  budgetOf,
  type DayUsage,
  federationWindow,
  mergeTallies,
  type UsageWindow,
  windowOf,
} from "../domain/usage.js";
import { readLocalUsage, recordUsage } from "../infra/usage-ledger.js";
import type { FederationCore } from "./federation.js";
import type { RunOutcome } from "./task-runner.js";

/**
 * Usage and budgets joined to the node views (ARCHITECTURE.md §3g). A node's tallies are what
 * this machine recorded for it plus, for a node of another machine, what its worker's heartbeat
 * carries: each turn is recorded once, by the machine that ran it, so the two never overlap.
 */
export interface FederationUsage {
  windows: Map<string, UsageWindow>;
  federation: FederationUsageView;
  budgets: Map<string, BudgetView>;
}

type UsageSource = Pick<FederationCore, "loaded" | "machine" | "nodes" | "config">;

export async function readUsage(
  core: UsageSource,
  heartbeats: readonly NodeStatusRecord[],
  now = new Date(),
): Promise<FederationUsage> {
  const { machine, nodes, config } = core;
  const local = await readLocalUsage(core.loaded.home, now);
  const windows = new Map<string, UsageWindow>();
  for (const node of nodes) {
    const lists: DayUsage[][] = [local.get(node.id) ?? []];
    if (node.machine !== machine) lists.push(heartbeats.find((h) => h.node === node.id)?.usage ?? []);
    windows.set(node.id, windowOf(node.id, mergeTallies(lists), config.prices, now));
  }
  const total = federationWindow([...windows.values()]);
  const federation: FederationUsageView = config.budget
    ? { ...total, budget: budgetOf(config.budget, total.today, "federation") }
    : total;
  const budgets = new Map<string, BudgetView>();
  for (const node of nodes) {
    const own = windows.get(node.id);
    const budget = own && bindingBudget(node.id, own.today, total.today, config);
    if (budget) budgets.set(node.id, budget);
  }
  return { windows, federation, budgets };
}

/** Puts each node's usage and budget on its view, and the reached budgets on the routable nodes. */
export function withUsage<T extends { views: NodeView[]; routable: RoutableNode[] }>(
  found: T,
  usage: FederationUsage,
): T & { usage: FederationUsageView } {
  for (const view of found.views) {
    const window = usage.windows.get(view.id);
    const budget = usage.budgets.get(view.id);
    if (window) view.usage = window;
    if (budget) view.budget = budget;
  }
  for (const node of found.routable) {
    const budget = usage.budgets.get(node.config.id);
    if (budget?.reached) node.overBudget = budget.line;
  }
  return { ...found, usage: usage.federation };
}

/** Whether a budget is set at all: without one, nothing about usage is read to route or claim. */
export function hasBudgets(config: FederationConfig): boolean {
  return config.budget !== undefined || Object.keys(config.budgets ?? {}).length > 0;
}

/** This machine's tallies of one node, for its worker's heartbeat. */
export async function localTallies(home: string, node: string): Promise<DayUsage[]> {
  return (await readLocalUsage(home)).get(node) ?? [];
}

/**
 * Why a worker must not start another task of `node` today (its budget or the federation's is
 * reached), or undefined. Reads nothing when no budget is set.
 */
export async function budgetStop(
  core: UsageSource & Pick<FederationCore, "blackboard">,
  node: string,
): Promise<string | undefined> {
  if (!hasBudgets(core.config)) return undefined;
  // Only a federation cap needs the other machines' heartbeats.
  const heartbeats = core.config.budget ? (await core.blackboard.readNodeStatuses()).records : [];
  const usage = await readUsage(core, heartbeats);
  const budget = usage.budgets.get(node);
  return budget?.reached ? budget.line : undefined;
}

/** A completed turn's tokens go into this machine's ledger (usage-ledger.ts). */
export async function noteUsage(home: string, outcome: RunOutcome): Promise<void> {
  if (outcome.kind === "completed") await recordUsage(home, outcome.result);
}
