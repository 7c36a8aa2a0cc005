import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { isLongRunning, missingHeapFlags } from "../../source/long-running-heap.js";

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

  test("`clawos` itself starts with every heap flag, from its shebang: no second start", () => {
    const bundle = fileURLToPath(new URL("../../clawos/bin.js", import.meta.url));
    const shebang = readFileSync(bundle, "utf8").split("\n", 1)[0] ?? "";
    const match = /^#!\/usr\/bin\/env -S node((?: --[\w-]+=\d+)+)$/.exec(shebang);
    assert.ok(match, `the bundle's first line is ${shebang}`);
    const flags = match[1]!.trim().split(" ");
    assert.deepEqual(missingHeapFlags(flags), []);
    // Node takes them as they are written there: the heap limit is the shebang's.
    const limitMb = execFileSync(
      process.execPath,
      [...flags, "-p", "require('node:v8').getHeapStatistics().heap_size_limit / 2 ** 20"],
      { encoding: "utf8" },
    );
    assert.ok(Number(limitMb) < 600, `heap limit ${limitMb.trim()} MB`);
  });
});
