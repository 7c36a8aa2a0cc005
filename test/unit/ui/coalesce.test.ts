import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import {
  budgetSchedule,
  createCoalescer,
  createFrameBudget,
  type Schedule,
} from "../../../source/ui/coalesce.js";

function manual(): { schedule: Schedule; tick(): void; pending(): number } {
  const queue: (() => void)[] = [];
  return {
    schedule: (fn) => {
      queue.push(fn);
      return () => {
        const at = queue.indexOf(fn);
        if (at >= 0) queue.splice(at, 1);
      };
    },
    tick: () => {
      for (const fn of queue.splice(0)) fn();
    },
    pending: () => queue.length,
  };
}

describe("snapshot coalescing", () => {
  it("delivers only the newest value, once per tick", () => {
    const clock = manual();
    const seen: number[] = [];
    const c = createCoalescer<number>((v) => seen.push(v), clock.schedule);
    for (let i = 1; i <= 1000; i++) c.push(i);
    assert.equal(clock.pending(), 1, "one tick scheduled for a thousand pushes");
    clock.tick();
    assert.deepEqual(seen, [1000]);
    clock.tick();
    assert.deepEqual(seen, [1000], "nothing new, nothing delivered");
    c.push(1001);
    c.push(1002);
    clock.tick();
    assert.deepEqual(seen, [1000, 1002]);
  });

  it("can flush now and be cancelled", () => {
    const clock = manual();
    const seen: string[] = [];
    const c = createCoalescer<string>((v) => seen.push(v), clock.schedule);
    c.push("a");
    c.flush();
    assert.deepEqual(seen, ["a"]);
    assert.equal(clock.pending(), 0);
    c.push("b");
    c.cancel();
    clock.tick();
    assert.deepEqual(seen, ["a"]);
  });
});

describe("the frame budget's schedule", () => {
  it("delivers at once after a quiet spell, and otherwise waits the budget from the last delivery", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      let now = 1_000;
      const seen: number[] = [];
      const budget = createFrameBudget({ minMs: 50, maxMs: 1000, share: 0.1 });
      const c = createCoalescer<number>(
        (v) => seen.push(v),
        budgetSchedule(budget, () => now),
      );
      c.push(1);
      mock.timers.tick(1);
      assert.deepEqual(seen, [1], "the first value does not wait");
      now += 10;
      c.push(2);
      mock.timers.tick(39);
      assert.deepEqual(seen, [1], "10 ms after a delivery: 40 ms more to wait");
      now += 40;
      mock.timers.tick(1);
      assert.deepEqual(seen, [1, 2]);
      now += 500;
      c.push(3);
      mock.timers.tick(1);
      assert.deepEqual(seen, [1, 2, 3], "quiet for longer than the budget: at once again");
    } finally {
      mock.timers.reset();
    }
  });
});
