import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isValidNodeId, isValidTaskId, newTaskId, taskIdTime } from "../../../../source/core/domain/ids.js";

describe("task and node ids", () => {
  test("new ids follow the seed format and carry their creation time", () => {
    const id = newTaskId(new Date(Date.UTC(2026, 1, 27, 20, 32, 20)));
    assert.match(id, /^req_20260227_203220_[0-9a-f]{8}$/);
    assert.equal(taskIdTime(id)?.toISOString(), "2026-02-27T20:32:20.000Z");
    assert.notEqual(newTaskId(), newTaskId());
  });
  test("seed ids are accepted; path-like, huge and odd ones are refused", () => {
    for (const ok of ["req_20260227_200645", "req_20260227_203220_e68aee2d", "req_example"])
      assert.ok(isValidTaskId(ok), ok);
    for (const bad of [
      "../req_x",
      "req_a/b",
      "req_",
      "req_a.json",
      `req_${"a".repeat(200)}`,
      "task_1",
      "req_a\u0000",
      "req_ä",
    ]) {
      assert.ok(!isValidTaskId(bad), bad);
    }
    assert.ok(isValidNodeId("mac-mini") && isValidNodeId("alpha"));
    for (const bad of ["any", "Alpha", "../x", "", "a b", "x".repeat(41)])
      assert.ok(!isValidNodeId(bad), bad);
  });
});
