import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Key } from "ink";
import { toKeyPresses } from "../../../source/ui/input.js";

const none: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

describe("key presses from Ink input", () => {
  it("splits a batched chunk into single keys, in order", () => {
    const names = toKeyPresses("jjG/st\r", none).map((k) => k.name);
    assert.deepEqual(names, ["j", "j", "G", "/", "s", "t", "enter"]);
  });

  it("maps control characters inside a batch", () => {
    const names = toKeyPresses("a\tb\u007f\u001bc \u0003", none).map((k) => k.name);
    assert.deepEqual(names, ["a", "tab", "b", "backspace", "escape", "c", "space", "ctrl+c"]);
  });

  it("keeps typed text, CJK included", () => {
    assert.deepEqual(
      toKeyPresses("测试", none).map((k) => k.text),
      ["测", "试"],
    );
  });

  it("names special keys from Ink's flags", () => {
    assert.deepEqual(toKeyPresses("", { ...none, upArrow: true }), [{ name: "up" }]);
    assert.deepEqual(toKeyPresses("", { ...none, tab: true, shift: true }), [{ name: "shift+tab" }]);
    assert.deepEqual(toKeyPresses("c", { ...none, ctrl: true }), [{ name: "ctrl+c" }]);
    assert.deepEqual(toKeyPresses("", { ...none, pageDown: true }), [{ name: "pagedown" }]);
    assert.deepEqual(toKeyPresses("", { ...none, return: true }), [{ name: "enter" }]);
  });
});
