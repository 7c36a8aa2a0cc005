import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTheme, noColorRequested, nodeStateTone, taskStateTone } from "../../../source/ui/theme.js";

describe("theme", () => {
  it("honours NO_COLOR (any non-empty value)", () => {
    assert.equal(noColorRequested({ NO_COLOR: "1" }), true);
    assert.equal(noColorRequested({ NO_COLOR: "" }), false);
    assert.equal(noColorRequested({}), false);
  });

  it("drops every colour when asked, keeps dim for muted text", () => {
    const plain = createTheme(true);
    for (const tone of ["ok", "warn", "error", "accent", "info", "muted"] as const)
      assert.equal(plain.color(tone), undefined);
    assert.equal(plain.dim("muted"), true);
  });

  it("uses only hues that read on dark and light backgrounds", () => {
    const colour = createTheme(false);
    const used = (["ok", "warn", "error", "accent", "info"] as const).map((t) => colour.color(t));
    for (const c of used) assert.ok(["green", "magenta", "red", "cyan", "blue"].includes(c ?? ""), String(c));
    assert.equal(colour.color(nodeStateTone("online")), "green");
    assert.equal(colour.color(taskStateTone("failed")), "red");
    assert.equal(colour.color(nodeStateTone("unknown")), undefined, "unknown is never shown like online");
  });
});
