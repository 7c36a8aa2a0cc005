import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { renderColumns } from "../../../source/present/table.js";
import { truncate as truncateToWidth } from "../../../source/present/text.js";
import { textWidth } from "../../../source/present/text-width.js";
import { nodeColumns, taskColumns } from "../../../source/present/vocabulary.js";
import { FIXED_NOW, makeNode, makeTask } from "../../testkit/fake-federation.js";

describe("plain tables from the shared columns", () => {
  const nodes = [
    makeNode({
      id: "laptop",
      reason: "no heartbeat yet (run clawos node run --node laptop there)",
      notes: "sleeps at night, wakes at eight",
    }),
  ];

  test("leave out the least useful columns first, so no row is wider than the terminal", () => {
    const wide = renderColumns(nodeColumns(FIXED_NOW), nodes, 1000);
    assert.match(wide, /NODE\s+STATUS\s+REASON\s+TRANSPORT\s+ADDRESS\s+LATENCY\s+ACTIVE\s+HEARTBEAT\s+NOTES/);
    assert.match(wide, /sleeps at night, wakes at eight/);
    for (const width of [80, 60, 40]) {
      const fitted = renderColumns(nodeColumns(FIXED_NOW), nodes, width);
      for (const line of fitted.split("\n")) assert.ok(line.length <= width, `${line.length}: ${line}`);
      assert.match(fitted, /^NODE\s+STATUS/);
    }
    assert.doesNotMatch(renderColumns(nodeColumns(FIXED_NOW), nodes, 60), /ADDRESS/);
  });

  test("at 80 columns a gateway that is down keeps its address and its reason: what a user needs to fix it", () => {
    const down = [
      makeNode({ id: "mac-mini-main", status: "online", reason: "health 2 ms", notes: "the hub, always on" }),
      makeNode({
        id: "alpha",
        port: 18790,
        status: "unreachable",
        reason: "gateway not reachable: connect ECONNREFUSED",
        latencyMs: undefined,
        inFlight: 3,
      }),
    ];
    const table = renderColumns(nodeColumns(FIXED_NOW, down), down, 80);
    const [header, , row] = table.split("\n");
    assert.match(header ?? "", /^NODE\s+STATUS\s+REASON\s+.*ADDRESS/);
    assert.match(row ?? "", /^alpha\s+unreachable\s+gateway not reachable.*127\.0\.0\.1:18790/);
    for (const line of table.split("\n")) assert.ok(line.length <= 80, line);
  });

  test("a narrow table shows the last 8 hex of a task id, a wide one the whole id", () => {
    const tasks = [makeTask({ id: "req_20260227_203300_0badc0de", text: "hello" })];
    assert.match(renderColumns(taskColumns(FIXED_NOW, 80), tasks, 80), /\n0badc0de\s/);
    assert.match(renderColumns(taskColumns(FIXED_NOW, 160), tasks, 160), /\nreq_20260227_203300_0badc0de\s/);
  });

  test("cuts never split a joined emoji", () => {
    for (const text of ["❤️".repeat(6), "👨‍👩‍👧".repeat(4)]) {
      const t = truncateToWidth(text, 5);
      assert.ok(textWidth(t) <= 5, `${t} fits`);
      assert.ok(!t.includes("\u200d…"), "never half a joined emoji");
    }
  });
});
