import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeView } from "../../../source/core/domain/federation-types.js";
import { fitColumns } from "../../../source/present/columns.js";
import {
  moneyText,
  nodeUsageFacts,
  taskUsageText,
  tokensText,
  usageLines,
  withUsageColumns,
} from "../../../source/present/usage-text.js";
import { nodeColumns } from "../../../source/present/vocabulary.js";

const node = (id: string, extra: Partial<NodeView> = {}): NodeView => ({
  id,
  machine: "hub",
  transport: "localhost",
  host: "127.0.0.1",
  port: 18789,
  profile: null,
  agent: "main",
  tags: [],
  status: "online",
  reason: "health 1 ms",
  inFlight: 0,
  ...extra,
});
const totals = (prompt: number, completion: number, tasks: number, cost: Record<string, number> = {}) => ({
  prompt,
  completion,
  tasks,
  cost,
});

describe("usage text", () => {
  test("tokens and money read at a glance", () => {
    assert.equal(tokensText(950), "950");
    assert.equal(tokensText(12_345), "12.3k");
    assert.equal(tokensText(4_000), "4k");
    assert.equal(tokensText(250_400), "250k");
    assert.equal(tokensText(4_500_000), "4.5M");
    assert.equal(moneyText(1.234), "1.23");
    assert.equal(moneyText(0.000093), "0.000093");
    assert.equal(moneyText(0), "0.00");
  });

  test("a task without usage (finished by an older version) shows the empty mark, never 0", () => {
    assert.equal(taskUsageText({}), "—");
    assert.equal(taskUsageText({ usage: { prompt: 11, completion: 20 } }), "31 (11 prompt + 20 completion)");
  });

  test("the federation line: today and 7 days, money when priced, the federation's budget", () => {
    assert.deepEqual(usageLines(undefined), []);
    const usage = { today: totals(1000, 234, 1, { USD: 0.42 }), week: totals(10_000, 2_000, 5, { USD: 3 }) };
    assert.deepEqual(usageLines(usage), [
      "Usage: today 1.2k tokens (1 task, 0.42 USD) · 7 days 12k tokens (5 tasks, 3.00 USD)",
    ]);
    // Too long for 80 columns: a line each.
    assert.deepEqual(usageLines(usage, 80), [
      "Usage today:  1.2k tokens (1 task, 0.42 USD)",
      "Usage 7 days: 12k tokens (5 tasks, 3.00 USD)",
    ]);
    const budget = { percent: 73, reached: false, line: "" };
    assert.match(
      usageLines({ today: totals(0, 0, 0), week: totals(0, 0, 0), budget })[0] ?? "",
      / · budget 73%$/,
    );
  });

  test("TOKENS and BUDGET appear only when a node has used tokens or has a budget, before NOTES", () => {
    const plain = [node("a"), node("b")];
    assert.deepEqual(
      withUsageColumns(nodeColumns(0), plain).map((c) => c.id),
      nodeColumns(0).map((c) => c.id),
    );
    const used = [
      node("a", { usage: { today: totals(1000, 500, 2), week: totals(1000, 500, 2) } }),
      node("b", { budget: { percent: 81, reached: false, line: "" } }),
    ];
    const columns = withUsageColumns(nodeColumns(0), used);
    const ids = columns.map((c) => c.id);
    assert.deepEqual(ids.slice(-3), ["tokens", "budget", "notes"]);
    const tokens = columns.find((c) => c.id === "tokens");
    const budget = columns.find((c) => c.id === "budget");
    assert.equal(tokens?.value(used[0] as NodeView), "1.5k");
    assert.equal(tokens?.value(used[1] as NodeView), "—");
    assert.equal(budget?.value(used[1] as NodeView), "81%");
    assert.equal(budget?.tone?.(used[1] as NodeView), "warn");
    // At 80 columns the budget stays longer than latency or the address.
    const fitted = fitColumns(columns, used, 80).map((f) => f.column.id);
    assert.ok(fitted.includes("budget"), fitted.join(","));
  });

  test("the selected node's facts name today's tokens and its budget", () => {
    const facts = nodeUsageFacts(
      node("a", {
        usage: { today: totals(30, 12, 1), week: totals(30, 12, 1) },
        budget: { percent: 100, reached: true, line: "" },
      }),
    );
    assert.deepEqual(facts, ["today 42 tokens (1 task)", "budget 100% (reached)"]);
    assert.deepEqual(nodeUsageFacts(node("b")), []);
  });
});
