import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { taskDetailLines } from "../../../source/present/task-detail.js";
import { displayWidth } from "../../../source/present/text.js";
import { FIXED_NOW, seedTasks } from "../../testkit/fake-federation.js";

// Absolute times are local, with their zone named: this file's zone is eight hours east.
process.env.TZ = "Asia/Shanghai";

const failed = seedTasks()[2];
if (!failed) throw new Error("the seed has a failed task");
const text = (width: number) =>
  taskDetailLines(failed, { width, now: FIXED_NOW })
    .map((l) => l.text)
    .join("\n");

describe("a task in full, as tasks show and the control center show it", () => {
  test("labelled facts in one order, local times with their zone, then request, history, error, reply", () => {
    const shown = text(100);
    assert.match(
      shown,
      /^Task {6}req_20260227_203300_0badc0de\nState {5}failed\nPriority {2}P1\nAttempt {3}1 of 3\nTarget {4}any → mac-mini via localhost\nReason {4}target named explicitly\nCreated {3}2026-02-28 04:33:00 UTC\+08:00 \(4m ago\)\nFinished {2}2026-02-28 04:33:05 UTC\+08:00 \(3m ago\)\n/,
    );
    assert.match(shown, /\nHistory \(2 events, times in UTC\+08:00\)\n {2}04:33:00 {2}created/);
    assert.match(shown, /\nError\n {2}gateway: 401 bad token\n {2}fix: Check the token/);
    assert.match(shown, /\nReply \(none\)$/);
  });

  test("a narrow pane gets the time of day and the age, and every line fits", () => {
    const narrow = text(40);
    assert.match(narrow, /\nCreated {3}04:33:00 \(4m ago\)\n/);
    for (const line of narrow.split("\n")) assert.ok(displayWidth(line) <= 40, line);
  });
});
