import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { computeNodeHealth } from "../../../../source/core/domain/health.js";
import { NodeConfig, type NodeStatusRecord, TimingConfig } from "../../../../source/core/domain/schema.js";
import { DEGRADED_FOR_MS, newestTurn, turnHealth } from "../../../../source/core/domain/turn-health.js";

const timing = TimingConfig.parse({});
const now = Date.parse("2026-12-05T12:00:00Z");
const ago = (ms: number) => new Date(now - ms).toISOString();
const probe = { ok: true, latencyMs: 2, checkedAt: now };
const noAuth = {
  node: "beta",
  at: ago(5_000),
  ok: false,
  kind: "model_auth",
  error:
    "Node beta's model has no usable credentials: No route-compatible authentication source is configured for openai.",
  hint: "Give it a key: openclaw --profile beta models auth paste-api-key --provider openai",
};

describe("health includes the model (the last turn)", () => {
  test("a gateway that answers its probe but whose last turn had no model auth is misconfigured, with the cause and fix", () => {
    const node = NodeConfig.parse({ id: "beta", machine: "hub", port: 18909 });
    const h = computeNodeHealth({ node, route: "localhost", probe, turn: noAuth, now, timing });
    assert.equal(h.status, "misconfigured");
    assert.match(h.reason, /^last turn failed 5s ago: Node beta's model has no usable credentials/);
    assert.equal(h.hint, noAuth.hint);
    assert.equal(h.latencyMs, 2, "the probe's latency is kept");
  });

  test("a provider failure degrades the node for a while, then it is tried again; a later success clears either", () => {
    const down = { node: "beta", at: ago(1_000), ok: false, kind: "provider_timeout", error: "408" };
    assert.equal(turnHealth(down, now)?.status, "degraded");
    assert.equal(turnHealth({ ...down, at: ago(DEGRADED_FOR_MS + 1) }, now), undefined);
    assert.equal(
      turnHealth({ ...noAuth, at: ago(86_400_000) }, now)?.status,
      "misconfigured",
      "a fix is needed",
    );
    const fixed = newestTurn(noAuth, { node: "beta", at: ago(1_000), ok: true });
    assert.equal(turnHealth(fixed, now), undefined);
  });

  test("a gateway that is down stays unreachable: the probe speaks first", () => {
    const node = NodeConfig.parse({ id: "beta", machine: "hub", port: 18909 });
    const h = computeNodeHealth({
      node,
      route: "localhost",
      probe: { ok: false, checkedAt: now, errorKind: "unreachable", error: "refused" },
      turn: noAuth,
      now,
      timing,
    });
    assert.equal(h.status, "unreachable");
  });

  test("another machine's node: the turn comes in its heartbeat, so every machine sees it", () => {
    const node = NodeConfig.parse({ id: "laptop", machine: "laptop", port: 18789 });
    const heartbeat: NodeStatusRecord = {
      schema: "clawos.node-status/1",
      node: "laptop",
      machine: "laptop",
      pid: 1,
      version: "0",
      startedAt: ago(60_000),
      heartbeatAt: ago(2_000),
      state: "running",
      inFlight: [],
      completed: 0,
      failed: 1,
      gateway: { reachable: true, latencyMs: 3, checkedAt: ago(2_000) },
      turn: { at: ago(10_000), ok: false, kind: "unknown_agent", error: "no agent 'main'" },
    };
    const h = computeNodeHealth({ node, route: "blackboard", heartbeat, now, timing });
    assert.deepEqual([h.status, h.reason], ["misconfigured", "last turn failed 10s ago: no agent 'main'"]);
    // A newer success seen here wins over the heartbeat's older failure.
    const cleared = computeNodeHealth({
      node,
      route: "blackboard",
      heartbeat,
      turn: { node: "laptop", at: ago(1_000), ok: true },
      now,
      timing,
    });
    assert.equal(cleared.status, "online");
  });
});
