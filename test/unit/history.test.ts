import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { completeHistory } from "../../source/core/domain/history.js";
import type { TaskResult } from "../../source/core/domain/schema.js";

describe("a task's whole history", () => {
  const request = {
    attempt: 2,
    history: [
      { at: "2026-03-01T10:00:00.000Z", event: "routed", detail: "r" },
      { at: "2026-03-01T10:00:05.000Z", event: "lease-expired", detail: "no renewal" },
    ],
  };
  const result = (extra: Partial<TaskResult>): TaskResult => ({
    schema: "clawos.result/1",
    id: "req_20260301_100000_00000001",
    attempt: 2,
    node: "alpha",
    status: "completed",
    finishedAt: "2026-03-01T10:00:08.500Z",
    ...extra,
  });

  test("adds when the current attempt started and how it ended, in time order, naming the attempt", () => {
    const done = completeHistory(
      request,
      "alpha",
      result({ startedAt: "2026-03-01T10:00:06.000Z", durationMs: 2500 }),
    );
    assert.deepEqual(
      done.map((e) => `${e.event} ${e.detail}`),
      [
        "routed r",
        "lease-expired no renewal",
        "started attempt 2 on alpha",
        "completed attempt 2 after 2.5 s",
      ],
    );
    const failed = completeHistory(
      request,
      "alpha",
      result({ status: "failed", error: { kind: "gateway", message: "401 bad token" } }),
    );
    assert.equal(failed.at(-1)?.detail, "attempt 2: 401 bad token");
    const running = completeHistory(request, "alpha", undefined, { startedAt: "2026-03-01T10:00:07.000Z" });
    assert.equal(running.at(-1)?.event, "started");
  });

  test("names who claimed the attempt, just before it started, when the record says", () => {
    const by = "the worker on air (pid 7)";
    const done = completeHistory(request, "alpha", result({ startedAt: "2026-03-01T10:00:06.000Z", by }));
    assert.deepEqual(
      done.slice(2, 4).map((e) => `${e.event} ${e.detail}`),
      [`claimed attempt 2 by ${by}`, "started attempt 2 on alpha"],
    );
    const running = completeHistory(request, "alpha", undefined, {
      startedAt: "2026-03-01T10:00:07.000Z",
      by,
    });
    assert.deepEqual(
      running.slice(-2).map((e) => e.event),
      ["claimed", "started"],
    );
  });

  test("makes up no end for a result that went missing, nor for an older attempt's result", () => {
    const lost = completeHistory(
      request,
      "alpha",
      result({ status: "failed", error: { kind: "result_missing", message: "m" } }),
    );
    assert.deepEqual(
      lost.map((e) => e.event),
      ["routed", "lease-expired"],
    );
    const older = completeHistory(request, "alpha", result({ attempt: 1 }));
    assert.deepEqual(
      older.map((e) => e.event),
      ["routed", "lease-expired"],
    );
  });
});
