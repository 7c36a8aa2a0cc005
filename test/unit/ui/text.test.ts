import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cell,
  clip,
  displayWidth,
  formatAge,
  formatElapsed,
  pad,
  truncate,
  wrapLines,
} from "../../../source/present/text.js";

describe("text helpers (display width)", () => {
  it("measures CJK and emoji as two columns", () => {
    assert.equal(displayWidth("abc"), 3);
    assert.equal(displayWidth("测试"), 4);
    assert.equal(displayWidth("👍"), 2);
  });

  it("truncates by display width and marks the cut", () => {
    assert.equal(truncate("hello world", 5), "hell…");
    assert.equal(truncate("开发插件", 5), "开发…");
    assert.equal(displayWidth(truncate("开发插件 v2 测试", 7)), 7);
    assert.equal(truncate("short", 10), "short");
    assert.equal(truncate("anything", 0), "");
  });

  it("pads to exactly the width, even when a wide character does not fit", () => {
    for (const width of [1, 2, 3, 4, 5, 6, 7, 8]) {
      assert.equal(displayWidth(pad("开发插件👍ok", width)), width, `width ${width}`);
    }
    assert.equal(pad("7", 3, "right"), "  7");
  });

  it("cell() strips escape sequences before measuring", () => {
    const evil = "\u001b[2Jwipe\u001b]0;title\u0007 me";
    assert.equal(cell(evil, 10), "wipe me   ");
    assert.equal(clip("a\nb\u0007c", 10), "a bc");
  });

  it("wraps words, splits long words and CJK runs, and keeps lines within the width", () => {
    const lines = wrapLines("the quick brown fox jumps over the lazy dog", 10);
    assert.deepEqual(lines, ["the quick", "brown fox", "jumps over", "the lazy", "dog"]);
    const cjk = wrapLines("开发 babel chrome 插件 v2 开发开发开发开发开发", 8);
    for (const line of cjk) assert.ok(displayWidth(line) <= 8, `${line} fits`);
    assert.equal(cjk.join("").replace(/\s/g, ""), "开发babelchrome插件v2开发开发开发开发开发");
    assert.deepEqual(wrapLines("a\nb", 5), ["a", "b"]);
    assert.deepEqual(wrapLines("\u001b[31mred\u001b[0m", 5), ["red"]);
  });

  it("formats ages and durations", () => {
    const now = Date.parse("2026-01-01T00:10:00Z");
    assert.equal(formatAge("2026-01-01T00:09:55Z", now), "5s");
    assert.equal(formatAge("2026-01-01T00:00:00Z", now), "10m");
    assert.equal(formatAge("2025-12-31T00:10:00Z", now), "24h");
    assert.equal(formatAge("2025-12-01T00:10:00Z", now), "31d");
    assert.equal(formatAge("2026-01-01T00:11:00Z", now), "0s", "clock skew never goes negative");
    assert.equal(formatAge(undefined, now), "—");
    assert.equal(formatAge("not a date", now), "?");
    assert.equal(formatElapsed(850), "850 ms");
    assert.equal(formatElapsed(4200), "4.2 s");
    assert.equal(formatElapsed(185_000), "3 min 5 s");
  });
});
