import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MAX_RECORD_BYTES } from "../../../../source/core/domain/schema.js";
import { fitForRecord } from "../../../../source/core/federation/task-runner.js";

describe("long replies", () => {
  test("a reply over the record limit is cut on a character boundary and says so", () => {
    assert.equal(fitForRecord("short 中文"), "short 中文");
    const long = "长".repeat(400_000); // 1.2 MB of UTF-8
    const cut = fitForRecord(long);
    assert.ok(Buffer.byteLength(cut) < 1_000_000);
    assert.ok(!cut.includes("\uFFFD"));
    assert.match(cut, /\[… reply cut: 1200000 bytes is more than a task record holds\]$/);
  });

  test("the limit counts bytes as stored: a reply of quotes, control characters or emoji still fits", () => {
    for (const long of ['"'.repeat(600_000), "\u0001".repeat(300_000), "😀".repeat(300_000)]) {
      const cut = fitForRecord(long);
      const stored = Buffer.byteLength(JSON.stringify({ text: cut }));
      assert.ok(stored < MAX_RECORD_BYTES, `${stored} bytes stored`);
      assert.ok(stored > 800_000, "cut no shorter than it has to be");
      assert.match(cut, /more than a task record holds\]$/);
      assert.ok(!/[\ud800-\udbff]\n\[…/.test(cut), "no half surrogate pair before the note");
    }
    const fits = '"'.repeat(400_000); // 800 KB stored: kept whole
    assert.equal(fitForRecord(fits), fits);
  });
});
