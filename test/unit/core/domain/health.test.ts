import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { computeNodeHealth } from "../../../../source/core/domain/health.js";
import { NodeConfig, type NodeStatusRecord, TimingConfig } from "../../../../source/core/domain/schema.js";

const timing = TimingConfig.parse({});
const node = (id: string, extra: Partial<NodeConfig> = {}) =>
  NodeConfig.parse({ id, machine: "hub", port: 18789, ...extra });
const heartbeat = (ageMs: number, extra: Partial<NodeStatusRecord> = {}): NodeStatusRecord => ({
  schema: "clawos.node-status/1",
  node: "laptop",
  machine: "laptop",
  pid: 1,
  version: "0",
  startedAt: new Date(0).toISOString(),
  heartbeatAt: new Date(1_000_000 - ageMs).toISOString(),
  state: "running",
  inFlight: [],
  completed: 0,
  failed: 0,
  gateway: { reachable: true, latencyMs: 3, checkedAt: new Date(0).toISOString() },
  ...extra,
});

describe("node health", () => {
  const now = 1_000_000;
  test("localhost: from probes; unknown until probed", () => {
    const n = node("alpha");
    assert.equal(computeNodeHealth({ node: n, route: "localhost", now, timing }).status, "unknown");
    assert.equal(
      computeNodeHealth({
        node: n,
        route: "localhost",
        now,
        timing,
        probe: { ok: true, latencyMs: 2, checkedAt: now },
      }).status,
      "online",
    );
    const down = computeNodeHealth({
      node: n,
      route: "localhost",
      now,
      timing,
      probe: { ok: false, checkedAt: now, errorKind: "unreachable", error: "refused" },
    });
    assert.deepEqual([down.status, down.reason], ["unreachable", "refused"]);
    const token = computeNodeHealth({
      node: n,
      route: "localhost",
      now,
      timing,
      probe: { ok: false, checkedAt: now, errorKind: "unauthorized", error: "bad token" },
    });
    assert.equal(token.status, "misconfigured");
  });
  test("other machines: from heartbeat age; never online without one", () => {
    const n = node("laptop", { machine: "laptop" });
    const h = (age: number, extra: Partial<NodeStatusRecord> = {}) =>
      computeNodeHealth({ node: n, route: "blackboard", now, timing, heartbeat: heartbeat(age, extra) })
        .status;
    assert.equal(computeNodeHealth({ node: n, route: "blackboard", now, timing }).status, "unknown");
    assert.equal(h(1_000), "online");
    assert.equal(h(timing.staleAfterMs + 1), "stale");
    assert.equal(h(timing.asleepAfterMs + 1), "asleep");
    assert.equal(h(1_000, { state: "stopped" }), "stale", "a worker that just stopped is not asleep yet");
    assert.equal(h(timing.asleepAfterMs + 1, { state: "stopped" }), "asleep");
    assert.equal(h(1_000, { gateway: { reachable: false, checkedAt: "", error: "refused" } }), "unreachable");
    assert.equal(
      computeNodeHealth({ node: node("c", { port: null }), route: "planned", now, timing }).status,
      "planned",
    );
  });
});
