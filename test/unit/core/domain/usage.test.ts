import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UserError } from "../../../../source/core/domain/errors.js";
import { type RoutableNode, routeTask } from "../../../../source/core/domain/router.js";
import { Budget, FederationConfig, NodeConfig } from "../../../../source/core/domain/schema.js";
import {
  bindingBudget,
  budgetOf,
  type DayUsage,
  federationWindow,
  localDay,
  mergeTallies,
  recentDays,
  windowOf,
} from "../../../../source/core/domain/usage.js";

// Noon local time: the day boundaries below are the machine's, whatever its zone.
const NOW = new Date(2026, 2, 2, 12, 0, 0);
const day = (offset: number) => localDay(new Date(2026, 2, 2 - offset, 12));

describe("usage: days, windows and prices", () => {
  test("recentDays: today first, seven local days, across a month boundary", () => {
    const days = recentDays(NOW);
    assert.equal(days.length, 7);
    assert.equal(days[0], "2026-03-02");
    assert.equal(days[1], "2026-03-01");
    assert.equal(days[2], "2026-02-28");
    assert.equal(days[6], "2026-02-24");
  });

  test("windowOf: today and 7 days, older days left out, priced by node before model", () => {
    const tallies: DayUsage[] = [
      { day: day(0), model: "openclaw/main", prompt: 1000, completion: 500, tasks: 2 },
      { day: day(3), model: "openclaw/main", prompt: 2000, completion: 0, tasks: 1 },
      { day: day(7), model: "openclaw/main", prompt: 99_999, completion: 99_999, tasks: 9 },
    ];
    const unpriced = windowOf("alpha", tallies, undefined, NOW);
    assert.deepEqual(unpriced.today, { prompt: 1000, completion: 500, tasks: 2, cost: {} });
    assert.deepEqual(unpriced.week, { prompt: 3000, completion: 500, tasks: 3, cost: {} });

    const prices = FederationConfig.parse({
      prices: {
        alpha: { prompt: 3, completion: 15 },
        "openclaw/main": { prompt: 1, completion: 1, currency: "EUR" },
      },
    }).prices;
    const alpha = windowOf("alpha", tallies, prices, NOW);
    // 1000 × 3/1M + 500 × 15/1M
    assert.ok(Math.abs((alpha.today.cost.USD ?? 0) - 0.0105) < 1e-12);
    assert.equal(alpha.today.cost.EUR, undefined);
    const beta = windowOf("beta", tallies, prices, NOW);
    assert.ok(
      Math.abs((beta.week.cost.EUR ?? 0) - 0.0035) < 1e-12,
      "beta has no price of its own: its model's",
    );
  });

  test("mergeTallies adds two machines' records of the same day and model, keeps others apart", () => {
    const merged = mergeTallies([
      [{ day: day(0), model: "m", prompt: 1, completion: 2, tasks: 1 }],
      [
        { day: day(0), model: "m", prompt: 10, completion: 20, tasks: 1 },
        { day: day(0), prompt: 5, completion: 5, tasks: 1 },
      ],
    ]);
    assert.equal(merged.length, 2);
    assert.deepEqual(
      merged.find((t) => t.model === "m"),
      { day: day(0), model: "m", prompt: 11, completion: 22, tasks: 2 },
    );
    const fed = federationWindow([
      windowOf("a", merged, undefined, NOW),
      undefined,
      windowOf("b", [{ day: day(1), prompt: 7, completion: 0, tasks: 1 }], undefined, NOW),
    ]);
    assert.equal(fed.today.prompt, 16);
    assert.equal(fed.week.prompt, 23);
    assert.equal(fed.week.tasks, 4);
  });
});

describe("usage: budgets", () => {
  const totals = (prompt: number, completion: number, cost: Record<string, number> = {}) => ({
    prompt,
    completion,
    tasks: 1,
    cost,
  });

  test("a token cap: percent, reached at the cap, and the line that says how to get past it", () => {
    const cap = Budget.parse({ tokens: 1000 });
    const under = budgetOf(cap, totals(500, 230), { node: "alpha" });
    assert.equal(under.percent, 73);
    assert.equal(under.reached, false);
    const at = budgetOf(cap, totals(600, 400), { node: "alpha" });
    assert.equal(at.reached, true);
    assert.equal(
      at.line,
      "node alpha reached its daily budget (1000/1000 tokens); resets at 00:00 or raise budgets.alpha in federation.json",
    );
    const fed = budgetOf(cap, totals(2000, 0), "federation");
    assert.match(fed.line, /^the federation reached its daily budget \(2000\/1000 tokens\).*raise budget in/);
  });

  test("a money cap counts its own currency; with tokens too, the closer of the two binds", () => {
    const money = Budget.parse({ money: 2 });
    assert.equal(budgetOf(money, totals(1, 1, { EUR: 5 }), { node: "a" }).percent, 0, "EUR is not USD");
    const both = Budget.parse({ tokens: 1_000_000, money: 2 });
    const view = budgetOf(both, totals(10, 10, { USD: 2.5 }), { node: "a" });
    assert.equal(view.reached, true);
    assert.match(view.line, /\(2\.50\/2\.00 USD\)/);
    assert.throws(() => Budget.parse({}), /give tokens, money or both/);
  });

  test("bindingBudget: the node's own cap, or the federation's once that is reached or closer", () => {
    const config = FederationConfig.parse({ budgets: { alpha: { tokens: 100 } }, budget: { tokens: 1000 } });
    assert.equal(bindingBudget("beta", totals(0, 0), totals(0, 0), { budgets: {} }), undefined);
    assert.equal(bindingBudget("alpha", totals(50, 0), totals(100, 0), config)?.percent, 50);
    const fed = bindingBudget("alpha", totals(10, 0), totals(1000, 0), config);
    assert.equal(fed?.reached, true);
    assert.match(fed?.line ?? "", /the federation reached/);
    assert.equal(bindingBudget("beta", totals(0, 0), totals(300, 0), config)?.percent, 30);
  });
});

describe("router and budgets", () => {
  const r = (id: string, extra: Partial<RoutableNode> = {}): RoutableNode => ({
    config: NodeConfig.parse({ id, machine: "hub", port: 18789 }),
    route: "localhost",
    status: "online",
    statusReason: "health 1 ms",
    inFlight: 0,
    latencyMs: 5,
    ...extra,
  });
  const line =
    "node a reached its daily budget (5/4 tokens); resets at 00:00 or raise budgets.a in federation.json";

  test("any prefers a node under its cap, even a busier one, and says which it passed by", () => {
    const out = routeTask({ target: "any", priority: "P2" }, [
      r("a", { overBudget: line }),
      r("b", { inFlight: 3 }),
    ]);
    assert.equal(out.decision.node, "b");
    assert.equal(out.waiting, false);
    assert.match(out.decision.reason, /passed by a \(daily budget reached\)/);
  });

  test("any with every online node over its cap waits in an inbox, never runs here", () => {
    const out = routeTask({ target: "any", priority: "P2" }, [
      r("a", { overBudget: line, inFlight: 1 }),
      r("b", { overBudget: line.replaceAll("a", "b") }),
    ]);
    assert.equal(out.waiting, true);
    assert.equal(out.decision.node, "b");
    assert.equal(out.decision.transport, "blackboard");
    assert.match(out.decision.reason, /every online node reached its daily budget; waiting in b's inbox/);
  });

  test("an explicit target over its cap is refused with the budget's line and a way round it", () => {
    assert.throws(
      () => routeTask({ target: "a", priority: "P2" }, [r("a", { overBudget: line }), r("b")]),
      (error: unknown) =>
        error instanceof UserError &&
        error.code === "budget" &&
        error.message === `Not queued: ${line}.` &&
        /--to any/.test(error.hint ?? ""),
    );
  });
});
