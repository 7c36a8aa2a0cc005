import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Column, fitColumns } from "../../../source/present/columns.js";
import { nodeColumns, taskColumns } from "../../../source/present/vocabulary.js";
import { FIXED_NOW, seedNodes, seedTasks } from "../../testkit/fake-federation.js";

describe("column fitting", () => {
  const cols: Column<{ a: string; b: string; c: string }>[] = [
    { id: "a", header: "A", drop: 0, value: (r) => r.a },
    { id: "b", header: "B", drop: 2, value: (r) => r.b },
    { id: "c", header: "C", drop: 0, value: (r) => r.c, flex: true, min: 5 },
  ];
  const rows = [{ a: "aaaa", b: "bbbbbbbbbb", c: "cccccccccccccccccccc" }];

  it("keeps every column when there is room and gives the rest to the flex column", () => {
    const fitted = fitColumns(cols, rows, 40);
    assert.deepEqual(
      fitted.map((f) => [f.column.id, f.width]),
      [
        ["a", 4],
        ["b", 10],
        ["c", 24],
      ],
    );
  });

  it("drops the lowest-priority column first when narrow", () => {
    const fitted = fitColumns(cols, rows, 14);
    assert.deepEqual(
      fitted.map((f) => f.column.id),
      ["a", "c"],
    );
    assert.equal(fitted.reduce((n, f) => n + f.width, 0) + fitted.length - 1, 14);
  });

  it("the real tables fit 80 columns by dropping optional columns, keeping id, state and description", () => {
    const tasks = fitColumns(taskColumns(FIXED_NOW, 80), seedTasks(), 78).map((f) => f.column.id);
    for (const id of ["id", "state", "text"]) assert.ok(tasks.includes(id), id);
    const nodes = fitColumns(nodeColumns(FIXED_NOW), seedNodes(), 78).map((f) => f.column.id);
    for (const id of ["id", "status", "reason", "transport"]) assert.ok(nodes.includes(id), id);
    assert.ok(!nodes.includes("endpoint"), "the wide endpoint goes first at 80 columns");
    const wide = fitColumns(nodeColumns(FIXED_NOW), seedNodes(), 160).map((f) => f.column.id);
    assert.equal(wide.length, nodeColumns(FIXED_NOW).length);
  });
});
