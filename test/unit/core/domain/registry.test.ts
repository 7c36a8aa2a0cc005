import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  isHanded,
  NodeDefinition,
  type Resolved,
  resolveRegistry,
  topGeneration,
} from "../../../../source/core/domain/registry.js";
import { definitionOf } from "../../../integration/blackboard/contract.js";

const one = (records: NodeDefinition[], id = "main"): Resolved => {
  const resolved = resolveRegistry(records).get(id);
  assert.ok(resolved, `${id} should resolve`);
  return resolved;
};

describe("registry resolution", () => {
  test("one active record is the node", () => {
    const r = one([definitionOf("mac-mini", "main")]);
    assert.equal(r.kind, "active");
    assert.equal(r.kind === "active" && r.record.owner, "mac-mini");
  });

  test("the highest generation decides: a newer record replaces an older one of another owner", () => {
    const r = one([
      definitionOf("mac-mini", "main", 1, { machine: "macbook-air" }),
      definitionOf("macbook-air", "main", 2),
    ]);
    assert.equal(r.kind === "active" && r.record.owner, "macbook-air");
    assert.equal(r.generation, 2);
  });

  test("only tombstones at the top: the node is gone, and says who removed it", () => {
    const r = one([
      definitionOf("mac-mini", "main", 1),
      definitionOf("mac-mini", "main", 2, { state: "removed" }),
    ]);
    assert.deepEqual(r, { kind: "removed", id: "main", generation: 2, by: "mac-mini" });
  });

  test("an older tombstone does not hide a fresh registration above it", () => {
    const r = one([
      definitionOf("mac-mini", "main", 2, { state: "removed" }),
      definitionOf("macbook-air", "main", 3),
    ]);
    assert.equal(r.kind === "active" && r.record.owner, "macbook-air");
  });

  test("two machines active at the top generation are a conflict naming both, never merged", () => {
    const r = one([definitionOf("mac-mini", "main"), definitionOf("macbook-air", "main")]);
    assert.equal(r.kind, "conflict");
    assert.deepEqual(r.kind === "conflict" && r.claimants, ["mac-mini", "macbook-air"]);
  });

  test("a conflict below the top generation is settled by the newer record", () => {
    const r = one([
      definitionOf("mac-mini", "main", 1),
      definitionOf("macbook-air", "main", 1),
      definitionOf("macbook-air", "main", 2),
    ]);
    // macbook-air has one record per id: its gen-2 record replaced its gen-1 one on the board.
    assert.equal(r.kind, "active");
  });

  test("a record handed to a machine and that machine's own record at the same generation agree: its own wins", () => {
    const handed = definitionOf("mac-mini", "main", 1, { machine: "macbook-air", port: 1111 });
    const own = definitionOf("macbook-air", "main", 1, { port: 2222 });
    assert.equal(isHanded(handed), true);
    assert.equal(isHanded(own), false);
    for (const order of [
      [handed, own],
      [own, handed],
    ]) {
      const r = one(order);
      assert.equal(r.kind === "active" && r.record.node.port, 2222);
    }
  });

  test("records written on a machine's behalf by two others agree on it, and one is picked the same way each time", () => {
    const a = definitionOf("alpha", "main", 1, { machine: "cloud", port: 1 });
    const b = definitionOf("beta", "main", 1, { machine: "cloud", port: 2 });
    assert.equal(
      one([a, b]).kind === "active" && (one([a, b]) as { record: NodeDefinition }).record.owner,
      "alpha",
    );
    assert.equal((one([b, a]) as { record: NodeDefinition }).record.owner, "alpha");
  });

  test("a tombstone racing an active record at the same generation loses to it", () => {
    const r = one([
      definitionOf("mac-mini", "main", 2, { state: "removed" }),
      definitionOf("macbook-air", "main", 2),
    ]);
    assert.equal(r.kind === "active" && r.record.owner, "macbook-air");
  });

  test("ids resolve independently, in id order", () => {
    const all = resolveRegistry([
      definitionOf("b", "zeta"),
      definitionOf("a", "alpha"),
      definitionOf("a", "main"),
      definitionOf("b", "main"),
    ]);
    assert.deepEqual([...all.keys()], ["alpha", "main", "zeta"]);
    assert.deepEqual(
      [...all.values()].map((r) => r.kind),
      ["active", "conflict", "active"],
    );
  });

  test("topGeneration counts tombstones and every owner", () => {
    const records = [
      definitionOf("a", "main", 4, { state: "removed" }),
      definitionOf("b", "main", 2),
      definitionOf("b", "x", 9),
    ];
    assert.equal(topGeneration(records, "main"), 4);
    assert.equal(topGeneration(records, "none"), 0);
  });

  test("the record schema refuses a node whose id differs, an active record with no node, and tokens", () => {
    const good = definitionOf("a", "main");
    assert.equal(NodeDefinition.safeParse(good).success, true);
    assert.equal(NodeDefinition.safeParse({ ...good, node: { ...good.node, id: "other" } }).success, false);
    assert.equal(NodeDefinition.safeParse({ ...good, node: undefined }).success, false);
    assert.equal(
      NodeDefinition.safeParse({ ...good, node: { ...good.node, token: { env: "T" } } }).success,
      false,
    );
    assert.equal(
      NodeDefinition.safeParse({
        ...good,
        node: { ...good.node, ssh: { target: "u@h", identityFile: "/k" } },
      }).success,
      false,
    );
    assert.equal(
      NodeDefinition.safeParse({ ...good, node: { ...good.node, tags: Array(51).fill("t") } }).success,
      false,
    );
    assert.equal(NodeDefinition.safeParse({ ...good, owner: "x".repeat(101) }).success, false);
  });
});
