import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMPTY_CURSOR, move, settle, windowStart } from "../../../source/ui/state/navigation.js";

const ids = Array.from({ length: 100 }, (_, i) => `t${i}`);

describe("table navigation", () => {
  it("moves with clamping at both ends", () => {
    let t = move(EMPTY_CURSOR, "up", ids, 10);
    assert.equal(t.cursor, 0);
    t = move(t, "down", ids, 10);
    assert.equal(t.cursor, 1);
    assert.equal(t.selectedId, "t1");
    t = move(t, "bottom", ids, 10);
    assert.equal(t.cursor, 99);
    assert.equal(t.offset, 90);
    t = move(t, "down", ids, 10);
    assert.equal(t.cursor, 99);
    t = move(t, "top", ids, 10);
    assert.deepEqual(t, { cursor: 0, offset: 0, selectedId: "t0" });
  });

  it("pages by a screenful and keeps the cursor in the window", () => {
    let t = move(EMPTY_CURSOR, "pageDown", ids, 10);
    assert.equal(t.cursor, 9);
    t = move(t, "pageDown", ids, 10);
    assert.equal(t.cursor, 18);
    assert.ok(t.cursor >= t.offset && t.cursor < t.offset + 10);
    t = move(t, "pageUp", ids, 10);
    assert.equal(t.cursor, 9);
    assert.ok(t.cursor >= t.offset && t.cursor < t.offset + 10);
  });

  it("scrolls the window only when the cursor leaves it", () => {
    assert.equal(windowStart(5, 0, 10, 100), 0);
    assert.equal(windowStart(10, 0, 10, 100), 1);
    assert.equal(windowStart(3, 5, 10, 100), 3);
    assert.equal(windowStart(99, 0, 10, 100), 90);
    assert.equal(windowStart(0, 50, 10, 5), 0);
  });

  it("stays on the same row when rows are inserted above it", () => {
    const before = move(move(EMPTY_CURSOR, "down", ids, 10), "down", ids, 10);
    assert.equal(before.selectedId, "t2");
    const after = settle(before, ["new1", "new2", ...ids], 10);
    assert.equal(after.selectedId, "t2");
    assert.equal(after.cursor, 4);
  });

  it("keeps the rows on screen still when rows arrive above the window, except at the top", () => {
    const scrolled = { cursor: 50, offset: 45, selectedId: "t50" };
    const after = settle(scrolled, ["new1", "new2", ...ids], 10);
    assert.deepEqual(after, { cursor: 52, offset: 47, selectedId: "t50" }, "same row, same screen line");
    const top = move(EMPTY_CURSOR, "down", ids, 10);
    const atTop = settle(top, ["new1", ...ids], 10);
    assert.equal(atTop.offset, 0, "at the top, new rows come into view");
    assert.equal(atTop.selectedId, "t1");
  });

  it("falls back to the same index when its row disappears", () => {
    const at = { cursor: 5, offset: 0, selectedId: "t5" };
    const after = settle(
      at,
      ids.filter((id) => id !== "t5"),
      10,
    );
    assert.equal(after.cursor, 5);
    assert.equal(after.selectedId, "t6");
    assert.deepEqual(settle(at, [], 10), { cursor: 0, offset: 0, selectedId: null });
  });
});
