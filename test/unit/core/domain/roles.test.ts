import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UserError } from "../../../../source/core/domain/errors.js";
import { NodeDefinition, resolveRegistry } from "../../../../source/core/domain/registry.js";
import {
  ACTION_ROLE,
  ACTIONS,
  ROLES,
  roleAllows,
  roleRefusal,
} from "../../../../source/core/domain/roles.js";
import { cordonView } from "../../../../source/core/federation/views.js";

describe("roles", () => {
  test("the table: viewers act on nothing, operators run work, admins change the fleet", () => {
    const table = Object.fromEntries(
      ROLES.map((role) => [role, ACTIONS.filter((a) => roleAllows(role, a)).sort()]),
    );
    assert.deepEqual(table.viewer, []);
    assert.deepEqual(table.operator, ["cancel", "dispatch", "retry"]);
    assert.deepEqual(table.admin, [...ACTIONS].sort());
    for (const action of ["incubate", "migrate", "stop", "remove", "cordon", "drain", "join"] as const)
      assert.equal(ACTION_ROLE[action], "admin", action);
  });

  test("a refusal names the role needed, the session's role, and the fix", () => {
    const refusal = roleRefusal("viewer", "dispatch");
    assert.ok(refusal instanceof UserError);
    assert.equal(refusal.message, "dispatch needs the operator role; this session is viewer.");
    assert.match(refusal.hint ?? "", /clawos-role="operator"/);
    assert.match(
      roleRefusal("operator", "drain").message,
      /drain needs the admin role; this session is operator/,
    );
  });
});

describe("the cordon in the node record", () => {
  const base = {
    schema: "clawos.node/1",
    id: "alpha",
    owner: "hub",
    generation: 3,
    updatedAt: "2026-12-05T20:00:00.000Z",
    state: "active",
    node: { id: "alpha", machine: "hub", port: 18789 },
  };

  test("round-trips, and a record written before cordons existed still parses (no cordon)", () => {
    const cordon = { state: "draining", at: "2026-12-05T20:01:00.000Z", by: "ada@hub" } as const;
    const parsed = NodeDefinition.parse(JSON.parse(JSON.stringify({ ...base, cordon })));
    assert.deepEqual(parsed.cordon, cordon);
    const old = NodeDefinition.parse(base);
    assert.equal(old.cordon, undefined);
    const resolved = resolveRegistry([old, { ...parsed, generation: 4 }]).get("alpha");
    assert.equal(resolved?.kind === "active" ? resolved.record.cordon?.state : undefined, "draining");
  });

  test("an unknown state or an oversized field is refused", () => {
    assert.equal(
      NodeDefinition.safeParse({ ...base, cordon: { state: "paused", at: "", by: "" } }).success,
      false,
    );
    assert.equal(
      NodeDefinition.safeParse({ ...base, cordon: { state: "cordoned", at: "", by: "x".repeat(101) } })
        .success,
      false,
    );
  });

  test("the view: draining turns drained when nothing is left, and the reason leads with it", () => {
    assert.deepEqual(cordonView(undefined, 2, "health 1 ms"), { reason: "health 1 ms" });
    assert.deepEqual(cordonView("cordoned", 0, "health 1 ms"), {
      cordon: "cordoned",
      reason: "cordoned; health 1 ms",
    });
    assert.deepEqual(cordonView("draining", 1, "ok"), { cordon: "draining", reason: "draining; ok" });
    assert.deepEqual(cordonView("draining", 0, "ok"), { cordon: "drained", reason: "drained; ok" });
  });
});
