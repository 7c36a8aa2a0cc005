import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ACTIVE_STATES, FINAL_STATES, TASK_STATES } from "../../../../source/core/domain/schema.js";

describe("task states", () => {
  test("every state is either still at work or final, never both", () => {
    assert.deepEqual([...ACTIVE_STATES].sort(), ["claimed", "pending", "running"]);
    assert.deepEqual(
      [...ACTIVE_STATES, ...FINAL_STATES].sort(),
      [...TASK_STATES].sort(),
      "the two lists split TASK_STATES",
    );
  });
});
