import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { workerBadge, workerLine } from "../../../source/present/worker-line.js";

describe("this machine's worker in words", () => {
  const now = new Date(2026, 11, 5, 18, 30).getTime();
  const since = new Date(2026, 11, 5, 17, 5).toISOString();

  test("a background worker: how, pid, since when, and how to stop it", () => {
    assert.equal(
      workerLine({ running: true, kind: "background", pid: 4242, since }, now),
      "Worker: in the background, pid 4242, since 17:05; clawos node stop-worker stops it",
    );
    assert.equal(
      workerBadge({ running: true, kind: "background", pid: 4242, since }),
      "worker: background 4242",
    );
  });

  test("a service or a hand-started worker is not offered to stop-worker; an older start shows its day", () => {
    const yesterday = new Date(2026, 11, 4, 9, 0).toISOString();
    assert.equal(
      workerLine({ running: true, kind: "service", pid: 7, since: yesterday }, now),
      "Worker: as a service, pid 7, since 2026-12-04 09:00",
    );
    assert.equal(workerLine({ running: true, kind: "manual" }, now), "Worker: running, started by hand");
    assert.equal(workerBadge({ running: true, kind: "service" }), "worker: service");
  });

  test("none: says that tasks wait and what starts one, within 80 columns", () => {
    for (const serviceInstalled of [false, true])
      assert.ok(workerLine({ running: false, serviceInstalled }, now).length <= 80);
    assert.match(workerLine({ running: false }, now), /^Worker: not running on this machine; its tasks wait/);
    assert.match(
      workerLine({ running: false, serviceInstalled: true }, now),
      /^Worker: not running; its tasks wait \(start its service/,
    );
    assert.equal(workerBadge({ running: false }), "worker: none");
    assert.equal(workerBadge(undefined), "");
  });
});
