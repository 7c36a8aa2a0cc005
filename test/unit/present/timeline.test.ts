import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { timelineOf } from "../../../source/present/timeline.js";

describe("a task's timeline", () => {
  test("adds when the attempt started and how it ended to the recorded events, in time order", () => {
    const base = {
      id: "req_20260301_100000_00000001",
      target: "any",
      node: "alpha",
      priority: "P2" as const,
      text: "t",
      createdAt: "2026-03-01T10:00:00.000Z",
      attempt: 2,
      maxAttempts: 3,
      route: {
        node: "alpha",
        transport: "localhost" as const,
        reason: "r",
        decidedAt: "2026-03-01T10:00:00.000Z",
      },
      history: [
        { at: "2026-03-01T10:00:00.000Z", event: "routed", detail: "r" },
        { at: "2026-03-01T10:00:05.000Z", event: "lease-expired", detail: "no renewal" },
      ],
    };
    const done = timelineOf({
      ...base,
      state: "completed",
      startedAt: "2026-03-01T10:00:06.000Z",
      finishedAt: "2026-03-01T10:00:08.500Z",
      durationMs: 2500,
    });
    assert.deepEqual(
      done.map((e) => `${e.event} ${e.detail}`),
      ["routed r", "lease-expired no renewal", "started on alpha, attempt 2", "completed after 2.5 s"],
    );
    const quick = timelineOf({
      ...base,
      state: "completed",
      finishedAt: "2026-03-01T10:00:09.000Z",
      durationMs: 10,
    });
    assert.equal(quick.at(-1)?.detail, "after 10 ms");
    const lost = timelineOf({
      ...base,
      state: "failed",
      finishedAt: base.createdAt,
      error: { kind: "result_missing", message: "m" },
    });
    assert.deepEqual(
      lost.map((e) => e.event),
      ["routed", "lease-expired"],
      "no made-up end for a result that went missing",
    );
  });
});
