/**
 * Log lines quote what the blackboard says (task ids, errors, node names): the log writer
 * sanitizes each one, so reading a log in a terminal (tail -f) cannot be driven by a record.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { rotatingLog } from "../../source/core/infra/log-file.js";
import { HOSTILE, hostileControls } from "./hostile-records.js";

test("the worker log file gets record text without control sequences, one line per entry", async () => {
  const dir = await mkdtemp(join(tmpdir(), "clawos-present-log-"));
  try {
    const path = join(dir, "logs", "worker.log");
    const log = rotatingLog(path);
    log(`task req_x failed: ${HOSTILE}\nforged 2026-03-01T00:00:00Z info all good`);
    log("next entry");
    const text = await readFile(path, "utf8");
    assert.deepEqual(hostileControls(text), [], JSON.stringify(text));
    assert.equal(text.split("\n").length, 3, "two entries, two lines");
    assert.match(text, /failed: pwned/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
