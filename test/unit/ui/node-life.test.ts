import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../../source/core/domain/errors.js";
import type { FederationApi } from "../../../source/core/domain/federation-types.js";
import { runEffect } from "../../../source/ui/effects.js";
import { buildHelpLines } from "../../../source/ui/features/help/lines.js";
import { resolveKeymap } from "../../../source/ui/keymap.js";
import type { AppAction, AppState, Effect } from "../../../source/ui/state/app-state.js";
import { makeNode, seedNodes } from "../../testkit/fake-federation.js";
import { press, snapshotOf, stateOf, type } from "./helpers.js";

/** alpha (local, online), beta (local, unreachable), the seed's remote and planned ones. */
function nodes() {
  return [
    ...seedNodes(),
    makeNode({
      id: "beta",
      port: 18909,
      profile: "beta",
      status: "unreachable",
      reason: "connection refused",
    }),
  ];
}

function select(s: AppState, id: string): AppState {
  let state = press(s, "g");
  for (let i = 0; i < 10 && state.nodes.selectedId !== id; i++) state = press(state, "j");
  assert.equal(state.nodes.selectedId, id);
  return state;
}

const nodeEffects = (s: AppState): Effect[] =>
  s.effects.filter((e) => e.type === "nodeLifecycle" || e.type === "removeNode");

/** `:gateway …` typed into the palette and sent. */
function command(s: AppState, text: string): AppState {
  return press(type(s, `:${text}`), "enter");
}

describe("a node's life from the control center", () => {
  it("s opens the palette on the likely command (stop what answers, start what does not); it runs after a y", () => {
    let s = select(stateOf({ snapshot: snapshotOf(nodes()) }), "alpha");
    s = press(s, "s");
    assert.equal(s.input?.kind, "palette");
    assert.equal(s.input?.field.text, "gateway stop alpha");
    s = press(s, "enter");
    assert.equal(s.confirm?.prompt, "Stop the gateway of alpha (port 18790)?");
    assert.deepEqual(nodeEffects(s), [], "nothing before y");
    s = press(s, "y");
    assert.deepEqual(nodeEffects(s), [{ type: "nodeLifecycle", node: "alpha", action: "stop" }]);

    let t = select(stateOf({ snapshot: snapshotOf(nodes()) }), "beta");
    t = press(t, "s");
    assert.equal(t.input?.field.text, "gateway start beta");
    t = press(t, "enter", "n");
    assert.deepEqual(nodeEffects(t), []);
    assert.equal(t.message?.text, "Nothing changed.");

    let r = command(stateOf({ snapshot: snapshotOf(nodes()) }), "gateway restart alpha");
    assert.equal(r.confirm?.prompt, "Restart the gateway of alpha (port 18790)?");
    r = press(r, "y");
    assert.deepEqual(nodeEffects(r), [{ type: "nodeLifecycle", node: "alpha", action: "restart" }]);
  });

  it("another machine's node says where to run it; a planned one has no gateway; bad words get the usage", () => {
    const far = command(stateOf({ snapshot: snapshotOf(nodes()) }), "gateway stop macbook-air");
    assert.equal(far.confirm, null);
    assert.equal(
      far.message?.text,
      "macbook-air runs on macbook-air: run clawos nodes stop macbook-air there.",
    );
    const planned = command(stateOf({ snapshot: snapshotOf(nodes()) }), "gateway start cloud-node");
    assert.match(planned.message?.text ?? "", /cloud-node is planned: it has no gateway yet/);
    const bad = command(stateOf({ snapshot: snapshotOf(nodes()) }), "gateway stop alpha --purge");
    assert.match(
      bad.message?.text ?? "",
      /^Usage: :gateway start\|stop\|restart\|cordon\|uncordon\|drain NODE/,
    );
  });

  it(":gateway remove stops the gateway unless --keep-running; --purge names the profile that moves aside", () => {
    let s = command(stateOf({ snapshot: snapshotOf(nodes()) }), "gateway remove beta");
    assert.equal(s.confirm?.prompt, "Remove beta, stop its gateway?");
    s = press(s, "y");
    assert.deepEqual(nodeEffects(s), [{ type: "removeNode", node: "beta", stop: true, purge: false }]);

    let p = command(stateOf({ snapshot: snapshotOf(nodes()) }), "gateway remove beta --purge");
    assert.equal(
      p.confirm?.prompt,
      "Remove beta, stop its gateway and move ~/.openclaw-beta aside (renamed, not deleted)?",
    );
    p = press(p, "y");
    assert.deepEqual(nodeEffects(p), [{ type: "removeNode", node: "beta", stop: true, purge: true }]);

    const k = command(stateOf({ snapshot: snapshotOf(nodes()) }), "gateway remove alpha --keep-running");
    assert.equal(k.confirm?.prompt, "Remove alpha, leave its gateway running?");
    const far = command(stateOf({ snapshot: snapshotOf(nodes()) }), "gateway remove macbook-air --purge");
    assert.equal(far.message?.text, "macbook-air runs on macbook-air: purge it there.");
  });

  it("refused in a read-only session, and hidden from its help", () => {
    const s = press(select(stateOf({ snapshot: snapshotOf(nodes()), readonly: true }), "alpha"), "s");
    assert.equal(s.input, null);
    assert.match(
      s.message?.text ?? "",
      /Read-only session: starting, stopping and removing nodes is turned off/,
    );
    const c = command(stateOf({ snapshot: snapshotOf(nodes()), readonly: true }), "gateway remove alpha");
    assert.equal(c.confirm, null);
    assert.match(
      c.message?.text ?? "",
      /Read-only session: starting, stopping and removing nodes is turned off/,
    );
    const keymap = resolveKeymap();
    const shown = (readonly: boolean) =>
      buildHelpLines(keymap, readonly, 100)
        .map((line) => line.map((segment) => segment.text).join(""))
        .join("\n");
    assert.match(shown(false), /s\s+Start\/stop\/drain… \(asks\)/);
    assert.match(shown(false), /:gateway/);
    assert.doesNotMatch(shown(true), /Start\/stop\/drain|:gateway/);
  });

  it("runEffect: the federation's lines go to the status line, an error with its words", async () => {
    const reported: AppAction[] = [];
    const api = {
      nodeLifecycle: (node: string, action: string) =>
        Promise.resolve([`Stopped the gateway of ${node} (pid 7, run by clawos).`, `(${action})`]),
      removeNode: () => Promise.reject(new UserError("Node beta uses the default profile.")),
    } as unknown as FederationApi;
    await runEffect(api, { type: "nodeLifecycle", node: "alpha", action: "stop" }, (a) => reported.push(a));
    await runEffect(api, { type: "removeNode", node: "beta", stop: true, purge: true }, (a) =>
      reported.push(a),
    );
    assert.deepEqual(reported, [
      {
        type: "notify",
        message: { text: "Stopped the gateway of alpha (pid 7, run by clawos). (stop)", tone: "info" },
      },
      { type: "notify", message: { text: "Node beta uses the default profile.", tone: "error" } },
    ]);
    const none: AppAction[] = [];
    await runEffect({} as FederationApi, { type: "nodeLifecycle", node: "a", action: "start" }, (a) =>
      none.push(a),
    );
    assert.match(JSON.stringify(none), /not available here/);
  });
});
