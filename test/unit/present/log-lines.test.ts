import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FleetEvent } from "../../../source/core/domain/federation-types.js";
import { eventJson } from "../../../source/core/domain/fleet-events.js";
import { fleetTitle, latestEvent, logLine } from "../../../source/present/log-lines.js";

const NOW = Date.parse("2026-12-05T10:00:00.000Z");
const down: FleetEvent = {
  time: new Date(NOW - 120_000).toISOString(),
  kind: "node-down",
  node: "hub",
  from: "online",
  to: "unreachable",
  message: "hub is unreachable: refused \u001b]0;x\u0007",
};

describe("log and event lines", () => {
  test("an event as JSON: every stable field, in order, null when absent", () => {
    assert.equal(
      eventJson(down),
      JSON.stringify({
        time: down.time,
        kind: "node-down",
        node: "hub",
        task: null,
        from: "online",
        to: "unreachable",
        message: down.message,
      }),
    );
    const federation: FleetEvent = {
      time: down.time,
      kind: "budget-reached",
      message: "the federation reached",
    };
    assert.equal(
      eventJson(federation),
      JSON.stringify({
        time: down.time,
        kind: "budget-reached",
        node: null,
        task: null,
        from: null,
        to: null,
        message: "the federation reached",
      }),
      "the federation's budget: no node",
    );
  });

  test("the terminal title counts nodes up and down", () => {
    assert.equal(
      fleetTitle([{ status: "online" }, { status: "degraded" }, { status: "stale" }]),
      "clawos · 2 online · 1 down",
    );
    assert.equal(fleetTitle([{ status: "online" }, { status: "planned" }]), "clawos · 1 online");
  });

  test("the latest event while recent, its age first, sanitized; none after 15 minutes", () => {
    assert.deepEqual(latestEvent([down], NOW), { text: "2m ago: hub is unreachable: refused ", bad: true });
    assert.equal(latestEvent([down], NOW + 20 * 60_000), undefined);
    assert.equal(latestEvent([], NOW), undefined);
  });

  test("a log line: time, source, level, text, with no control sequence", () => {
    assert.equal(
      logLine({ at: "2026-12-05T10:00:01.000Z", source: "gateway", level: "warn", text: "x\u001b[2Jy" }),
      "12-05 10:00:01  gateway warn  xy",
    );
  });
});
