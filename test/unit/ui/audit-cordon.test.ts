import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AuditLine, FederationApi } from "../../../source/core/domain/federation-types.js";
import { runEffect } from "../../../source/ui/effects.js";
import { appReducer } from "../../../source/ui/state/app-reducer.js";
import type { AppAction, AppState } from "../../../source/ui/state/app-state.js";
import { makeNode, seedNodes } from "../../testkit/fake-federation.js";
import { press, snapshotOf, stateOf, type } from "./helpers.js";

function command(s: AppState, text: string): AppState {
  return press(type(s, `:${text}`), "enter");
}

describe("cordon and drain from the control center", () => {
  it(":gateway drain NODE asks first, then queues the cordon effect", () => {
    let s = command(stateOf(), "gateway drain alpha");
    assert.match(s.confirm?.prompt ?? "", /^Drain alpha\? .*waiting any tasks go to other nodes/);
    assert.deepEqual(s.effects, []);
    s = press(s, "y");
    assert.deepEqual(s.effects, [{ type: "cordon", node: "alpha", action: "drain" }]);
    assert.equal(s.message?.text, "Draining alpha…");
  });

  it("uncordon of a node that is not cordoned says so; of a cordoned one it asks", () => {
    assert.equal(command(stateOf(), "gateway uncordon alpha").message?.text, "alpha is not cordoned.");
    const cordoned = snapshotOf([...seedNodes(), makeNode({ id: "beta", cordon: "cordoned" })]);
    const s = command(stateOf({ snapshot: cordoned }), "gateway uncordon beta");
    assert.match(s.confirm?.prompt ?? "", /^Uncordon beta\?/);
  });

  it("a read-only session refuses it; the effect reports the federation's lines or its refusal", async () => {
    const ro = command(stateOf({ readonly: true }), "gateway cordon alpha");
    assert.match(ro.message?.text ?? "", /Read-only session/);
    const said: AppAction[] = [];
    const api = {
      cordon: async () => {
        throw new Error("cordon needs the admin role; this session is operator.");
      },
    } as unknown as FederationApi;
    await runEffect(api, { type: "cordon", node: "alpha", action: "cordon" }, (a) => said.push(a));
    assert.deepEqual(said, [
      {
        type: "notify",
        message: { text: "cordon needs the admin role; this session is operator.", tone: "error" },
      },
    ]);
  });
});

describe("the audit view", () => {
  const lines: AuditLine[] = [
    { at: "2026-12-05T20:00:00.000Z", who: "ada (local)", action: "cordon", target: "alpha", result: "ok" },
    {
      at: "2026-12-05T20:01:00.000Z",
      who: "vera over ssh",
      action: "dispatch",
      target: "any",
      result: "refused",
      reason: "dispatch needs the operator role",
    },
  ];

  it("A (or :audit) opens it and asks the port; the lines arrive; Esc closes it", async () => {
    let s = press(stateOf(), "A");
    assert.deepEqual(s.audit, { lines: null, scroll: 0 });
    assert.deepEqual(s.effects, [{ type: "audit" }]);
    assert.deepEqual(command(stateOf(), "audit").effects, [{ type: "audit" }]);
    const said: AppAction[] = [];
    const api = { auditLog: async () => lines } as unknown as FederationApi;
    await runEffect(api, { type: "audit" }, (a) => said.push(a));
    assert.deepEqual(said, [{ type: "auditLoaded", lines }]);
    s = appReducer(s, said[0]!);
    assert.equal(s.audit?.lines?.length, 2);
    s = press(s, "escape");
    assert.equal(s.audit, null);
  });

  it("a port without the log says so and closes the view", async () => {
    const said: AppAction[] = [];
    await runEffect({} as FederationApi, { type: "audit" }, (a) => said.push(a));
    const s = appReducer(press(stateOf(), "A"), said[0]!);
    assert.equal(s.audit, null);
    assert.match(s.message?.text ?? "", /Could not read the audit log/);
  });
});
