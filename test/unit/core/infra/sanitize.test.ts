import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createStreamSanitizer, sanitizeLine, sanitizeText } from "../../../../source/core/infra/sanitize.js";

describe("sanitizing untrusted text", () => {
  const nasty =
    "a\u001b[2Jb\u001b]0;title\u0007c\u001b]8;;http://x\u001b\\d\u009b31me\u0007f\u0000g\u009d52;c;cHduZWQ=\u0007\u202e\u001bPq#0\u001b\\h\u0090dcs\u009c\u009epm\u001b\\\ti";
  test("escape and control sequences are removed, text and newlines kept", () => {
    assert.equal(sanitizeText(nasty), "abcdefgh  i");
    assert.equal(sanitizeText("line1\nline2 中文 😀"), "line1\nline2 中文 😀");
    assert.equal(sanitizeLine("a\nb\r\nc"), "a b c");
    // A stray C1 byte (mis-decoded text) is dropped alone, never with the rest of the reply.
    assert.equal(sanitizeText("A \u009d and the rest…\nSecond line."), "A  and the rest…\nSecond line.");
    assert.equal(sanitizeText("Sure ð\u009f\u0098\u0080 here is the answer"), "Sure ð here is the answer");
    // Bidi overrides are removed; right-to-left letters stay.
    assert.equal(sanitizeText("abc\u202edef שלום"), "abcdef שלום");
  });
  test("a stream cut at every possible place gives the same clean text", () => {
    for (let i = 0; i <= nasty.length; i++) {
      for (let j = i; j <= nasty.length; j += 3) {
        const s = createStreamSanitizer();
        const out = s.push(nasty.slice(0, i)) + s.push(nasty.slice(i, j)) + s.push(nasty.slice(j)) + s.end();
        assert.equal(out, "abcdefgh  i", `cut at ${i}/${j}`);
      }
    }
  });
});
