import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  cleanLogText,
  concernsNode,
  filterLog,
  LogTail,
  mergeByTime,
  parseGatewayLine,
  parseSince,
  parseWorkerLine,
} from "../../../../source/core/infra/log-entries.js";

describe("log lines", () => {
  test("a worker line: time, level, text", () => {
    assert.deepEqual(parseWorkerLine("2026-12-05T10:00:00.000Z warn  alpha: gateway down: refused"), {
      at: "2026-12-05T10:00:00.000Z",
      source: "worker",
      level: "warn",
      text: "alpha: gateway down: refused",
    });
    assert.deepEqual(parseWorkerLine("Error: bad config"), {
      source: "worker",
      level: "info",
      text: "Error: bad config",
    });
  });

  test("an OpenClaw JSON line: its time, level and message; other text as it is", () => {
    const line = JSON.stringify({
      0: "listening",
      _meta: { logLevelName: "WARN", date: "2026-12-05T10:00:00.000Z" },
      time: "2026-12-05T10:00:01.000+00:00",
      message: "listening on 18789",
    });
    assert.deepEqual(parseGatewayLine(line), {
      at: "2026-12-05T10:00:01.000Z",
      source: "gateway",
      level: "warn",
      text: "listening on 18789",
    });
    assert.equal(parseGatewayLine("{not json").text, "{not json");
  });

  test("secrets are masked and escapes dropped", () => {
    assert.equal(cleanLogText("auth Bearer abcdefghijkl ok"), "auth Bearer *** ok");
    assert.equal(cleanLogText('config {"token": "s3cr3t-value"}'), 'config {"token": "***"}');
    assert.equal(cleanLogText("api_key=sk-abcdefghijklmnopqrstuv"), "api_key=***");
    assert.equal(cleanLogText("a\u001b]0;title\u0007b\nc"), "ab c");
    assert.equal(cleanLogText("x".repeat(50), 10).length, 10);
  });

  test("merge by time keeps each source's order and untimed lines after their neighbour", () => {
    const w = [parseWorkerLine("2026-12-05T10:00:02.000Z info  w2"), parseWorkerLine("stack line")];
    const g = [
      parseGatewayLine(JSON.stringify({ time: "2026-12-05T10:00:01.000Z", message: "g1" })),
      parseGatewayLine(JSON.stringify({ time: "2026-12-05T10:00:03.000Z", message: "g3" })),
    ];
    assert.deepEqual(
      mergeByTime([w, g]).map((e) => e.text),
      ["g1", "w2", "stack line", "g3"],
    );
  });

  test("filters: since and grep (any case, the level too)", () => {
    const entries = [
      parseWorkerLine("2026-12-05T10:00:00.000Z info  early"),
      parseWorkerLine("2026-12-05T11:00:00.000Z warn  Later one"),
    ];
    assert.deepEqual(
      filterLog(entries, { sinceMs: Date.parse("2026-12-05T10:30:00Z") }).map((e) => e.text),
      ["Later one"],
    );
    assert.deepEqual(
      filterLog(entries, { grep: "LATER" }).map((e) => e.text),
      ["Later one"],
    );
    assert.deepEqual(
      filterLog(entries, { grep: "warn" }).map((e) => e.text),
      ["Later one"],
    );
  });

  test("parseSince", () => {
    assert.equal(parseSince("10m"), 600_000);
    assert.equal(parseSince("2h"), 7_200_000);
    assert.equal(parseSince("1d"), 86_400_000);
    assert.equal(parseSince("ten"), undefined);
    assert.equal(parseSince("5x"), undefined);
  });

  test("a node's lines: those naming it, or naming no other served node", () => {
    assert.ok(concernsNode("alpha: gateway down", "alpha", ["alpha", "beta"]));
    assert.ok(concernsNode("worker started", "alpha", ["alpha", "beta"]));
    assert.ok(!concernsNode("beta: gateway down", "alpha", ["alpha", "beta"]));
    assert.ok(!concernsNode("alpha-2 claimed", "alpha", ["alpha", "alpha-2"]), "a longer id is another node");
  });

  test("the heartbeat tail is bounded: 50 lines of 300 characters", () => {
    const tail = new LogTail();
    for (let i = 0; i < 120; i++) tail.push(`2026-12-05T10:00:00.000Z info  line ${i} ${"x".repeat(400)}`);
    const lines = tail.forNode("alpha", ["alpha"]);
    assert.equal(lines.length, 50);
    assert.match(lines[0]?.text ?? "", /^line 70 /);
    assert.ok(lines.every((l) => l.text.length <= 300));
  });
});
