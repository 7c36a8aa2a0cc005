import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compactMallocEnv, isLongRunning, missingHeapFlags } from "../../source/long-running-heap.js";

describe("long-running commands", () => {
  test("the control center and serve count as long-running; one-shot commands do not", () => {
    assert.equal(isLongRunning([]), true);
    assert.equal(isLongRunning(["tui", "--readonly"]), true);
    assert.equal(isLongRunning(["--home", "/tmp/x"]), true);
    assert.equal(isLongRunning(["--home", "/tmp/x", "serve", "--ssh", "127.0.0.1:2222"]), true);
    assert.equal(isLongRunning(["status"]), false);
    assert.equal(isLongRunning(["--home", "tui", "status"]), false);
    assert.equal(isLongRunning(["dispatch", "tui"]), false);
    assert.equal(isLongRunning(["--help"]), false, "help prints and exits: no second start");
    assert.equal(isLongRunning(["tui", "-h"]), false);
    assert.equal(isLongRunning(["--version"]), false);
  });

  test("they restart with the heap flags the user did not give", () => {
    assert.deepEqual(missingHeapFlags([]), ["--max-semi-space-size=4", "--max-old-space-size=512"]);
    assert.deepEqual(missingHeapFlags(["--max-semi-space-size=16"]), ["--max-old-space-size=512"]);
    assert.deepEqual(missingHeapFlags(["--max-semi-space-size=4"], "--max_old_space_size=4096"), []);
    assert.deepEqual(missingHeapFlags(["--enable-source-maps"], "--max-old-space-size=512"), [
      "--max-semi-space-size=4",
    ]);
  });

  test("they restart with two malloc arenas unless the user set the number", () => {
    assert.deepEqual(compactMallocEnv({ HOME: "/h" }), { HOME: "/h", MALLOC_ARENA_MAX: "2" });
    assert.deepEqual(compactMallocEnv({ MALLOC_ARENA_MAX: "8" }), { MALLOC_ARENA_MAX: "8" });
    assert.deepEqual(compactMallocEnv({ MALLOC_ARENA_MAX: "" }), { MALLOC_ARENA_MAX: "" });
  });
});
