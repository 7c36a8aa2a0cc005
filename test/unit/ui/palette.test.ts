import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { completeCommand, resolveCommand, suggestCommands } from "../../../source/ui/state/palette.js";

describe("command palette", () => {
  it("resolves exact names, aliases and unique prefixes, with arguments", () => {
    assert.deepEqual(resolveCommand("nodes"), { ok: true, command: "nodes", args: "" });
    assert.deepEqual(resolveCommand(":q"), { ok: true, command: "quit", args: "" });
    assert.deepEqual(resolveCommand("disp write a haiku"), {
      ok: true,
      command: "dispatch",
      args: "write a haiku",
    });
    assert.deepEqual(resolveCommand("tasks state:failed"), {
      ok: true,
      command: "tasks",
      args: "state:failed",
    });
    assert.deepEqual(resolveCommand("INIT"), { ok: true, command: "init", args: "" });
  });

  it("explains ambiguous and unknown commands", () => {
    const r = resolveCommand("");
    assert.equal(r.ok, false);
    const unknown = resolveCommand("frobnicate");
    assert.ok(!unknown.ok && /Unknown command ':frobnicate'/.test(unknown.error));
  });

  it("suggests and completes", () => {
    assert.deepEqual(
      suggestCommands("in").map((c) => c.name),
      ["incubate", "init"],
    );
    assert.equal(completeCommand("ref"), "refresh ");
    assert.equal(completeCommand("in"), "in", "ambiguous prefixes are left alone");
    assert.equal(suggestCommands("").length, 11);
  });
});
