import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UserError } from "../../../../source/core/domain/errors.js";
import { type RoutableNode, routeTask } from "../../../../source/core/domain/router.js";
import { NodeConfig } from "../../../../source/core/domain/schema.js";

const node = (id: string, extra: Partial<NodeConfig> = {}) =>
  NodeConfig.parse({ id, machine: "hub", port: 18789, ...extra });

describe("router", () => {
  const r = (id: string, extra: Partial<RoutableNode> = {}): RoutableNode => ({
    config: node(id, extra.config ?? {}),
    route: "localhost",
    status: "online",
    statusReason: "health 1 ms",
    inFlight: 0,
    latencyMs: 5,
    ...extra,
  });
  test("any: the least loaded online node, with the reason", () => {
    const out = routeTask({ target: "any", priority: "P2" }, [
      r("a", { inFlight: 2 }),
      r("b", { inFlight: 0 }),
      r("c", { status: "unreachable" }),
    ]);
    assert.equal(out.decision.node, "b");
    assert.equal(out.waiting, false);
    assert.match(out.decision.reason, /b is online, 0 tasks in flight.*best of 2 online nodes/);
  });
  test("any: ties go to localhost, then latency", () => {
    const out = routeTask({ target: "any", priority: "P2" }, [
      r("far", { route: "blackboard", latencyMs: 1 }),
      r("near", { latencyMs: 9 }),
    ]);
    assert.equal(out.decision.node, "near");
    const out2 = routeTask({ target: "any", priority: "P2" }, [
      r("slow", { latencyMs: 50 }),
      r("fast", { latencyMs: 2 }),
    ]);
    assert.equal(out2.decision.node, "fast");
  });
  test("any: tags and exclusions are respected; nothing online means wait, and says where", () => {
    const tagged = routeTask({ target: "any", priority: "P2", tags: ["gpu"] }, [
      r("a"),
      r("b", { config: node("b", { tags: ["gpu"] }) }),
    ]);
    assert.equal(tagged.decision.node, "b");
    const none = routeTask({ target: "any", priority: "P2" }, [
      r("a", { status: "asleep", lastSeenAt: 5 }),
      r("b", { status: "unreachable" }),
    ]);
    assert.equal(none.waiting, true);
    assert.equal(none.decision.node, "a");
    assert.equal(none.decision.transport, "blackboard");
    assert.match(none.decision.reason, /no node is online/);
    assert.throws(() => routeTask({ target: "any", priority: "P2", exclude: ["a"] }, [r("a")]), UserError);
    assert.throws(() => routeTask({ target: "any", priority: "P2" }, []), /No node/);
  });
  test("ssh: P0 to another machine, and any task while its worker is silent (unless turned off)", () => {
    const ssh = { target: "me@vm" };
    const remote = (status: RoutableNode["status"], extra: Record<string, unknown> = {}) =>
      r("vm", {
        route: "blackboard",
        status,
        config: node("vm", { machine: "vm", ssh: { ...ssh, ...extra } }),
      });
    const pick = (n: RoutableNode, priority: "P0" | "P2") =>
      routeTask({ target: "vm", priority, sshAvailable: true }, [n]).decision.transport;
    assert.equal(pick(remote("online"), "P0"), "ssh");
    assert.equal(pick(remote("online"), "P2"), "blackboard");
    assert.equal(pick(remote("asleep"), "P2"), "ssh");
    assert.equal(pick(remote("unknown"), "P2"), "ssh");
    assert.equal(pick(remote("asleep", { whenWorkerSilent: false }), "P2"), "blackboard");
    assert.equal(
      pick(remote("unreachable"), "P2"),
      "blackboard",
      "its worker says the gateway is down: SSH would not help",
    );
  });
  test("explicit: unknown refused, planned waits, dead localhost waits on the blackboard, misconfigured refused", () => {
    assert.throws(() => routeTask({ target: "zzz", priority: "P2" }, [r("a")]), /no node "zzz" \(known: a\)/);
    assert.equal(
      routeTask({ target: "c", priority: "P2" }, [r("c", { route: "planned", status: "planned" })]).waiting,
      true,
    );
    const dead = routeTask({ target: "a", priority: "P2" }, [
      r("a", { status: "unreachable", statusReason: "refused" }),
    ]);
    assert.deepEqual([dead.decision.node, dead.decision.transport, dead.waiting], ["a", "blackboard", true]);
    assert.throws(
      () =>
        routeTask({ target: "a", priority: "P2" }, [
          r("a", { status: "misconfigured", statusReason: "401" }),
        ]),
      /misconfigured/,
    );
    const remote = routeTask({ target: "l", priority: "P2" }, [r("l", { route: "blackboard" })]);
    assert.equal(remote.decision.transport, "blackboard");
  });
  test("any skips a cordoned or draining node, even the least loaded, and says so", () => {
    const out = routeTask({ target: "any", priority: "P2" }, [
      r("a", { inFlight: 0, cordon: "cordoned" }),
      r("b", { inFlight: 3 }),
      r("c", { inFlight: 0, cordon: "draining" }),
    ]);
    assert.equal(out.decision.node, "b");
    assert.match(out.decision.reason, /the only online node; skipped a, c: cordoned$/);
  });

  test("with every candidate cordoned, any is refused with the fix, nothing waits", () => {
    assert.throws(
      () => routeTask({ target: "any", priority: "P2" }, [r("a", { cordon: "cordoned" })]),
      (e: unknown) =>
        e instanceof UserError &&
        e.code === "no_node" &&
        /a is cordoned/.test(e.message) &&
        /clawos nodes uncordon a/.test(e.hint ?? ""),
    );
  });

  test("by name, a cordoned node is refused with the fix; an uncordoned one is routed", () => {
    assert.throws(
      () => routeTask({ target: "a", priority: "P2" }, [r("a", { cordon: "draining" })]),
      (e: unknown) =>
        e instanceof UserError &&
        e.message === "Node a is draining: it takes no new tasks." &&
        /--to any.*clawos nodes uncordon a/.test(e.hint ?? ""),
    );
    assert.equal(routeTask({ target: "a", priority: "P2" }, [r("a")]).decision.node, "a");
  });
});
