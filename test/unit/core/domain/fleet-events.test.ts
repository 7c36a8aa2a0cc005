import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FleetEvent, NodeState } from "../../../../source/core/domain/federation-types.js";
import {
  budgetReachedEvent,
  debounceEvents,
  deriveEvents,
  emptyDebounce,
  type FleetState,
} from "../../../../source/core/domain/fleet-events.js";

const T0 = Date.parse("2026-12-05T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function look(s: number, nodes: Record<string, NodeState>, tasks: FleetState["tasks"] = []): FleetState {
  return { at: at(s), nodes: Object.entries(nodes).map(([id, status]) => ({ id, status })), tasks };
}

describe("deriveEvents", () => {
  test("the first look is the baseline: nothing, even for a node already down or a failed task", () => {
    assert.deepEqual(
      deriveEvents(undefined, look(0, { a: "unreachable" }, [{ id: "t1", node: "a", state: "failed" }])),
      [],
    );
  });

  test("online → unreachable, stale or asleep is node-down; the way back is node-up", () => {
    for (const down of ["unreachable", "stale", "asleep"] as const) {
      const events = deriveEvents(look(0, { a: "online" }), look(5, { a: down }));
      assert.deepEqual(
        events.map((e) => [e.kind, e.node, e.from, e.to, e.time]),
        [["node-down", "a", "online", down, at(5)]],
      );
      assert.deepEqual(
        deriveEvents(look(5, { a: down }), look(9, { a: "online" })).map((e) => [e.kind, e.from, e.to]),
        [["node-up", down, "online"]],
      );
    }
  });

  test("moves that are not up ↔ down say nothing: unknown → online, stale → asleep, online → degraded", () => {
    assert.deepEqual(deriveEvents(look(0, { a: "unknown" }), look(1, { a: "online" })), []);
    assert.deepEqual(deriveEvents(look(0, { a: "unknown" }), look(1, { a: "unreachable" })), []);
    assert.deepEqual(deriveEvents(look(0, { a: "stale" }), look(1, { a: "asleep" })), []);
    assert.deepEqual(deriveEvents(look(0, { a: "online" }), look(1, { a: "degraded" })), []);
    assert.deepEqual(
      deriveEvents(look(0, {}), look(1, { new: "unreachable" })),
      [],
      "a new node is baseline",
    );
  });

  test("a task that reached failed is task-failed once, with its error's first line", () => {
    const before = look(0, { a: "online" }, [{ id: "t1", node: "a", state: "running" }]);
    const after = look(3, { a: "online" }, [
      { id: "t1", node: "a", state: "failed", error: { message: "model not found\nmore detail" } },
    ]);
    const [event, ...rest] = deriveEvents(before, after);
    assert.deepEqual(rest, []);
    assert.deepEqual(
      { ...event },
      {
        time: at(3),
        kind: "task-failed",
        node: "a",
        task: "t1",
        from: "running",
        to: "failed",
        message: "task t1 failed on a: model not found",
      },
    );
    assert.deepEqual(deriveEvents(after, look(6, { a: "online" }, after.tasks)), [], "not twice");
  });

  test("a task never seen before counts only if it finished since the last look", () => {
    const before = look(10, {});
    const fresh = { id: "new", node: "a", state: "failed", finishedAt: at(12) };
    const old = { id: "old", node: "a", state: "failed", finishedAt: at(2) };
    assert.deepEqual(
      deriveEvents(before, look(15, {}, [fresh, old])).map((e) => e.task),
      ["new"],
    );
    assert.deepEqual(deriveEvents(before, look(15, {}, [{ id: "p", node: "a", state: "pending" }])), []);
  });

  test("a budget that becomes reached is budget-reached once, with the budget's line", () => {
    const budget = (reached: boolean, who = "node a") => ({
      reached,
      line: `${who} reached its daily budget`,
    });
    const withBudgets = (s: number, a: boolean, b?: boolean): FleetState => ({
      ...look(s, { a: "online", b: "online" }),
      nodes: [
        { id: "a", status: "online", budget: budget(a) },
        { id: "b", status: "online", ...(b === undefined ? {} : { budget: budget(b, "node b") }) },
      ],
    });
    const events = deriveEvents(withBudgets(0, false), withBudgets(5, true, true));
    assert.deepEqual(events, [
      { time: at(5), kind: "budget-reached", node: "a", message: "node a reached its daily budget" },
      { time: at(5), kind: "budget-reached", node: "b", message: "node b reached its daily budget" },
    ]);
    assert.deepEqual(deriveEvents(withBudgets(5, true), withBudgets(9, true)), [], "still reached: nothing");
    assert.deepEqual(deriveEvents(undefined, withBudgets(0, true)), [], "the first look is the baseline");
    assert.deepEqual(
      deriveEvents(withBudgets(9, true), withBudgets(12, false)),
      [],
      "a new day says nothing",
    );
  });

  test("the federation's budget reached is one event without a node, not one per node it binds", () => {
    const line = "the federation reached its daily budget (10/10 tokens)";
    const federationLook = (s: number, reached: boolean): FleetState => ({
      ...look(s, {}),
      nodes: [
        { id: "a", status: "online", budget: { reached, line: reached ? line : "node a under" } },
        { id: "b", status: "online", budget: { reached, line: reached ? line : "node b under" } },
      ],
      budget: { reached, line },
    });
    assert.deepEqual(deriveEvents(federationLook(0, false), federationLook(3, true)), [
      { time: at(3), kind: "budget-reached", message: line },
    ]);
    assert.deepEqual(deriveEvents(federationLook(3, true), federationLook(4, true)), []);
  });

  test("budgetReachedEvent has the same shape", () => {
    assert.deepEqual(budgetReachedEvent("a", "a reached its daily cap", at(1)), {
      time: at(1),
      kind: "budget-reached",
      node: "a",
      message: "a reached its daily cap",
    });
  });
});

describe("debounceEvents", () => {
  const WINDOW = 300_000;
  const ev = (kind: FleetEvent["kind"], node = "a", s = 0): FleetEvent => ({
    time: at(s),
    kind,
    node,
    message: `${node} ${kind}`,
  });

  function run(steps: [number, FleetEvent[]][]): string[] {
    let state = emptyDebounce();
    const out: string[] = [];
    for (const [s, events] of steps) {
      const r = debounceEvents(state, events, T0 + s * 1000, WINDOW);
      state = r.state;
      out.push(...r.send.map((e) => `${s}:${e.kind}:${e.node}:${e.message}`));
    }
    return out;
  }

  test("a flapping node: one alert, then at the window's end only what changed the story", () => {
    // down, up, down in two minutes: "down" once; at the end it is still down, so nothing more.
    assert.deepEqual(
      run([
        [0, [ev("node-down")]],
        [30, [ev("node-up")]],
        [60, [ev("node-down")]],
        [200, []],
        [301, []],
        [900, []],
      ]),
      ["0:node-down:a:a node-down"],
    );
  });

  test("down, then up within the window: the up goes out when the window ends", () => {
    assert.deepEqual(
      run([
        [0, [ev("node-down")]],
        [40, [ev("node-up")]],
        [299, []],
        [300, []],
      ]),
      ["0:node-down:a:a node-down", "300:node-up:a:a node-up"],
    );
  });

  test("after the window a new event goes out at once; nodes and kinds are apart", () => {
    assert.deepEqual(
      run([
        [0, [ev("node-down"), ev("node-down", "b"), ev("task-failed")]],
        [400, [ev("node-up")]],
      ]),
      [
        "0:node-down:a:a node-down",
        "0:node-down:b:b node-down",
        "0:task-failed:a:a task-failed",
        "400:node-up:a:a node-up",
      ],
    );
  });

  test("failures held back are counted in the one sent at the window's end", () => {
    assert.deepEqual(
      run([
        [0, [ev("task-failed")]],
        [10, [ev("task-failed")]],
        [20, [ev("task-failed")]],
        [300, []],
      ]),
      ["0:task-failed:a:a task-failed", "300:task-failed:a:a task-failed (1 more held back)"],
    );
  });

  test("a window of 0 sends everything", () => {
    let state = emptyDebounce();
    const r = debounceEvents(state, [ev("node-down"), ev("node-up")], T0, 0);
    state = r.state;
    assert.equal(r.send.length, 2);
  });
});
