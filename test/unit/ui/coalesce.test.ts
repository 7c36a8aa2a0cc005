import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCoalescer, type Schedule } from "../../../source/ui/coalesce.js";

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
