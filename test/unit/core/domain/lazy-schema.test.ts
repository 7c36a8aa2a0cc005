import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { z } from "zod";
import { lazySchema } from "../../../../source/core/domain/lazy-schema.js";
import { NodeDefinition } from "../../../../source/core/domain/registry.js";
import { FederationConfig, NodeStatusRecord, TaskRequest } from "../../../../source/core/domain/schema.js";

const eager = () =>
  z.object({ id: z.string().regex(/^[a-z]+$/, "lowercase only"), n: z.number().int().min(1) }).strict();

describe("schemas built on first use", () => {
  test("nothing is built until the schema is read, and then only once", () => {
    let builds = 0;
    const Lazy = lazySchema(() => {
      builds++;
      return eager();
    });
    const Outer = lazySchema(() => z.object({ inner: Lazy }));
    assert.equal(builds, 0);
    assert.deepEqual(Outer.parse({ inner: { id: "abc", n: 2 } }), { inner: { id: "abc", n: 2 } });
    assert.equal(Lazy.safeParse({ id: "abc", n: 3 }).success, true);
    assert.equal(builds, 1);
  });

  test("as strict as the schema itself: the same issues on bad input, nested or extended", () => {
    const Lazy = lazySchema(eager);
    for (const bad of [
      { id: "ABC", n: 1 },
      { id: "abc", n: 0 },
      { id: "abc", n: 1, extra: true },
      null,
      "x",
    ]) {
      const lazy = Lazy.safeParse(bad);
      assert.equal(lazy.success, false, JSON.stringify(bad));
      assert.deepEqual(lazy.error?.issues, eager().safeParse(bad).error?.issues);
      assert.equal(z.object({ inner: Lazy }).safeParse({ inner: bad }).success, false);
    }
    const Extended = Lazy.extend({ tag: z.literal("t") });
    assert.equal(Extended.safeParse({ id: "abc", n: 1 }).success, false);
    assert.equal(Extended.safeParse({ id: "abc", n: 1, tag: "t" }).success, true);
    assert.ok(Lazy instanceof z.ZodObject);
    assert.deepEqual(Object.keys(Lazy.shape), ["id", "n"]);
  });

  test("the federation's schemas still refuse untrusted records", () => {
    const request = {
      schema: "clawos.task/1",
      id: "req_20260101_000000_abcdef12",
      target: "alpha",
      priority: "P2",
      text: "hello",
      createdAt: "2026-01-01T00:00:00Z",
      createdBy: "me",
      attempt: 1,
      maxAttempts: 3,
      route: { node: "alpha", transport: "blackboard", reason: "r", decidedAt: "2026-01-01T00:00:00Z" },
    };
    assert.equal(TaskRequest.safeParse(request).success, true);
    assert.equal(TaskRequest.safeParse({ ...request, id: "../../etc/passwd" }).success, false);
    assert.equal(
      TaskRequest.safeParse({ ...request, route: { ...request.route, node: "ANY" } }).success,
      false,
    );
    assert.equal(
      NodeStatusRecord.safeParse({ schema: "clawos.node-status/1", node: "alpha" }).success,
      false,
    );
    assert.equal(
      NodeDefinition.safeParse({ schema: "clawos.node/1", id: "alpha", state: "active" }).success,
      false,
    );
    assert.equal(FederationConfig.safeParse({ timing: { leaseMs: 5 } }).success, false);
    assert.equal(FederationConfig.parse({}).timing.leaseMs, 30_000);
  });
});
