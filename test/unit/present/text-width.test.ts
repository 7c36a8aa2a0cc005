import assert from "node:assert/strict";
import { describe, test } from "node:test";
import stringWidth from "string-width";
import { simpleCharWidth, textWidth } from "../../../source/present/text-width.js";

describe("text width", () => {
  test("every character the fast path measures has the width string-width gives it; the rest go to string-width", () => {
    let checked = 0;
    for (let c = 0x20; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const fast = simpleCharWidth(c);
      if (fast === undefined) continue;
      const ch = String.fromCharCode(c);
      assert.equal(fast, stringWidth(ch), `U+${c.toString(16)} ${ch}`);
      checked++;
    }
    assert.ok(checked > 40_000, `${checked} characters checked`);
    for (const text of [
      "alpha — online · 3 ms",
      "第一个任务 with 中文",
      "한국어 텍스트",
      "ｆｕｌｌ",
      "👍 done",
      "e\u0301",
      "a\u200Bb",
      "👩‍💻 dev",
      "가",
    ])
      assert.equal(textWidth(text), stringWidth(text), text);
  });
});
