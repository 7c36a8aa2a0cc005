import assert from "node:assert/strict";
import { describe, test } from "node:test";
import stringWidth from "string-width";
import { isSimpleText, simpleCharWidth, textWidth } from "../../../source/present/text-width.js";

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

  test("every character the fast path measures is a grapheme by itself, whatever surrounds it", () => {
    const simple: string[] = [];
    for (let c = 0x20; c <= 0xffff; c++)
      if (simpleCharWidth(c) !== undefined) simple.push(String.fromCharCode(c));
    const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });
    // In code order, reversed, and shuffled (a fixed seed), so each meets many neighbours.
    let s = 7;
    const shuffled = simple
      .map((ch) => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return [s, ch] as const;
      })
      .sort(([a], [b]) => a - b)
      .map(([, ch]) => ch);
    for (const order of [simple, [...simple].reverse(), shuffled]) {
      const text = order.join("");
      assert.ok(isSimpleText(text));
      for (const { segment, index } of segmenter.segment(text))
        assert.equal(segment.length, 1, `U+${text.charCodeAt(index).toString(16)} joins its neighbour`);
    }
    for (const joined of [
      "e\u0301",
      "a\u200Db",
      "👍",
      "\u1100\u1161",
      "가\u11A8",
      "🇫🇷",
      "x\uFE0F",
      "a\u00ADb",
    ])
      assert.equal(isSimpleText(joined), false, joined);
  });
});
