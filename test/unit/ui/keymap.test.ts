import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ACTIONS,
  displayKey,
  helpEntries,
  normalizeKeyName,
  resolveKeymap,
} from "../../../source/ui/keymap.js";

describe("keymap", () => {
  it("has the default keys", () => {
    const { lookup, warnings } = resolveKeymap();
    assert.deepEqual(warnings, []);
    const expect: Record<string, string> = {
      j: "down",
      k: "up",
      down: "down",
      up: "up",
      g: "top",
      G: "bottom",
      pageup: "pageUp",
      pagedown: "pageDown",
      enter: "open",
      escape: "back",
      tab: "switchPane",
      "/": "filter",
      ":": "palette",
      "?": "help",
      d: "dispatch",
      r: "retry",
      x: "cancel",
      R: "refresh",
      q: "quit",
    };
    for (const [key, action] of Object.entries(expect)) assert.equal(lookup.get(key), action, key);
  });

  it("normalizes key names written in a config file", () => {
    assert.equal(normalizeKeyName("Esc"), "escape");
    assert.equal(normalizeKeyName("RETURN"), "enter");
    assert.equal(normalizeKeyName("PgDn"), "pagedown");
    assert.equal(normalizeKeyName("Ctrl-X"), "ctrl+x");
    assert.equal(normalizeKeyName("C-x"), "ctrl+x");
    assert.equal(normalizeKeyName("ctrl+X"), "ctrl+x");
    assert.equal(normalizeKeyName(" "), "space");
    assert.equal(normalizeKeyName("R"), "R", "case of single characters matters");
    assert.equal(normalizeKeyName("hyperdrive"), null);
  });

  it("rebinding replaces an action's keys and takes the key away from its old owner", () => {
    const km = resolveKeymap({ quit: "Q", cancel: ["X", "q"] });
    assert.deepEqual(km.bindings.quit, ["Q"]);
    assert.deepEqual(km.bindings.cancel, ["X", "q"]);
    assert.equal(km.lookup.get("q"), "cancel");
    assert.equal(km.lookup.get("Q"), "quit");
    assert.equal(km.lookup.get("x"), undefined, "the old default is gone");
    assert.deepEqual(km.warnings, []);
  });

  it("moving a default key to another action says so", () => {
    const km = resolveKeymap({ refresh: "r" });
    assert.equal(km.lookup.get("r"), "refresh");
    assert.deepEqual(km.bindings.retry, []);
    assert.match(km.warnings.join("\n"), /'r' now runs refresh, no longer retry/);
  });

  it("reports unknown actions and keys and keeps defaults then", () => {
    const km = resolveKeymap({ teleport: "t", quit: "hyperdrive" });
    assert.equal(km.warnings.length, 3);
    assert.match(km.warnings[0] ?? "", /unknown action 'teleport'/);
    assert.match(km.warnings[1] ?? "", /unknown key 'hyperdrive'/);
    assert.deepEqual(km.bindings.quit, ["q", "ctrl+c"]);
  });

  it("help entries come from the resolved map, and read-only hides mutating actions", () => {
    const km = resolveKeymap({ dispatch: "n" });
    const all = helpEntries(km, false).flatMap((g) => g.entries);
    assert.equal(all.find((e) => e.action === "dispatch")?.keys, "n");
    assert.equal(all.length, Object.keys(ACTIONS).length);
    const ro = helpEntries(km, true).flatMap((g) => g.entries.map((e) => e.action));
    for (const hidden of ["dispatch", "retry", "cancel", "discover"])
      assert.ok(!ro.includes(hidden as never), hidden);
    assert.ok(ro.includes("quit"));
  });

  it("displays keys for people", () => {
    assert.equal(displayKey("ctrl+c"), "Ctrl+C");
    assert.equal(displayKey("escape"), "Esc");
    assert.equal(displayKey("G"), "G");
  });
});
