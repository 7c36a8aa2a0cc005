/**
 * The changes the TUI benchmarks (bench/tui-*.ts, bench/RESULTS-tui.md) led to:
 * each keeps what it promises (same order, same behaviour), and the React build
 * the control center runs on is the production one.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { render } from "ink-testing-library";
import { createCoalescer, createFrameBudget, type Schedule } from "../../source/ui/coalesce.js";
import { TasksView } from "../../source/ui/components/tasks-view.js";
import { EMPTY_CURSOR } from "../../source/ui/state/navigation.js";
import { compareTasks, selectTaskRows, sortTasks } from "../../source/ui/state/rows.js";
import { displayWidth } from "../../source/ui/text.js";
import { FIXED_NOW, makeTask } from "../support/fake-federation.js";
import { snapshotOf, withTheme } from "./helpers.js";

const RUN_TUI = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "source",
  "ui",
  "run-tui.js",
);

function reactBuildAfterImport(env: NodeJS.ProcessEnv): string {
  const script = `
    import { createRequire } from "node:module";
    await import(${JSON.stringify(RUN_TUI)});
    const require = createRequire(import.meta.url);
    const loaded = Object.entries(require.cache)
      .filter(([file, m]) => m?.loaded && /react-reconciler[\\\\/]cjs[\\\\/]react-reconciler\\.(production|development)\\.js$/.test(file))
      .map(([file]) => (file.includes("production") ? "production" : "development"));
    process.stdout.write(loaded.join(","));
  `;
  return execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH, ...env },
    encoding: "utf8",
  });
}

describe("React build", () => {
  it("the control center loads production React when nobody set NODE_ENV", () => {
    // The development build diffed 10 000-task props into performance entries on
    // every commit: 130 % of a core and 900 MB with 10 000 tasks (RESULTS-tui.md).
    assert.equal(reactBuildAfterImport({}), "production");
  });

  it("an explicit NODE_ENV is respected", () => {
    assert.equal(reactBuildAfterImport({ NODE_ENV: "development" }), "development");
  });
});

describe("sorting tasks", () => {
  const states = ["pending", "running", "completed", "failed", "cancelled", "claimed"] as const;
  const tasks = Array.from({ length: 2000 }, (_, i) =>
    makeTask({
      id: `req_20260101_000000_${((i * 7919) % 2000).toString(16).padStart(8, "0")}`,
      state: states[(i * 31) % states.length],
      // Ties on purpose: ids decide them.
      createdAt: new Date(1e12 + Math.floor(((i * 104729) % 2000) / 3) * 1000).toISOString(),
    }),
  );

  it("sortTasks gives exactly the compareTasks order, in any input order", () => {
    const expected = [...tasks].sort(compareTasks).map((t) => t.id);
    assert.deepEqual(
      sortTasks(tasks).map((t) => t.id),
      expected,
    );
    assert.deepEqual(
      sortTasks([...tasks].reverse()).map((t) => t.id),
      expected,
    );
    // New objects for the same tasks (the live facade rebuilds them): same order.
    assert.deepEqual(
      sortTasks(tasks.map((t) => ({ ...t }))).map((t) => t.id),
      expected,
    );
    assert.deepEqual(sortTasks([]), []);
  });

  it("selectTaskRows sorts with it, filtered or not", () => {
    const snapshot = snapshotOf(undefined, tasks);
    assert.deepEqual(
      selectTaskRows(snapshot, "").map((t) => t.id),
      [...tasks].sort(compareTasks).map((t) => t.id),
    );
    assert.deepEqual(
      selectTaskRows(snapshot, "state:failed").map((t) => t.id),
      tasks
        .filter((t) => t.state === "failed")
        .sort(compareTasks)
        .map((t) => t.id),
    );
  });
});

describe("frame budget for live data", () => {
  it("waits the floor while frames are cheap and longer as they get dear, capped", () => {
    const budget = createFrameBudget({ minMs: 50, maxMs: 1000, share: 0.1 });
    assert.equal(budget.delayMs, 50);
    budget.spent(2);
    assert.equal(budget.delayMs, 50, "2 ms frames: 20 a second is well within 10 %");
    for (let i = 0; i < 20; i++) budget.spent(20);
    assert.ok(Math.abs(budget.delayMs - 180) < 1, `20 ms frames: one every 200 ms (${budget.delayMs})`);
    budget.spent(5_000);
    assert.equal(budget.delayMs, 1000);
  });

  it("the coalescer reads the delay when each wait begins", () => {
    const delays: number[] = [];
    let run: (() => void) | undefined;
    const budget = createFrameBudget({ minMs: 10, maxMs: 1000, share: 0.5 });
    const schedule: Schedule = (fn) => {
      delays.push(budget.delayMs);
      run = fn;
      return () => {};
    };
    const seen: number[] = [];
    const c = createCoalescer<number>((v) => {
      seen.push(v);
      budget.spent(100);
    }, schedule);
    c.push(1);
    c.push(2);
    run?.();
    c.push(3);
    run?.();
    assert.deepEqual(seen, [2, 3], "newest only");
    assert.deepEqual(delays, [10, 100]);
  });
});

describe("display width", () => {
  it("is the same with the ASCII fast path and the cache as string-width's", () => {
    for (const [text, width] of [
      ["plain ascii", 11],
      ["开发 babel 插件", 15],
      ["🚀 v2", 5],
      ["—", 1],
      ["", 0],
    ] as const) {
      assert.equal(displayWidth(text), width, text);
      assert.equal(displayWidth(text), width, `${text} (cached)`);
    }
  });
});

describe("table rows drawn only when they change", () => {
  it("a row's age still moves on with the clock", () => {
    const fresh = makeTask({ id: "req_fresh", createdAt: new Date(FIXED_NOW - 5_000).toISOString() });
    const old = makeTask({ id: "req_old", createdAt: new Date(FIXED_NOW - 3 * 86_400_000).toISOString() });
    const view = (now: number) =>
      withTheme(
        <TasksView
          rows={[fresh, old]}
          table={EMPTY_CURSOR}
          marks={[]}
          filter=""
          totalTasks={2}
          width={100}
          height={5}
          now={now}
          dispatchKey="d"
        />,
      );
    const { lastFrame, rerender } = render(view(FIXED_NOW));
    assert.match(lastFrame() ?? "", /req_fresh.*\s5s /);
    rerender(view(FIXED_NOW + 2_000));
    assert.match(lastFrame() ?? "", /req_fresh.*\s7s /);
    assert.match(lastFrame() ?? "", /req_old.*\s3d /);
  });

  it("a changed task object is drawn again, an unchanged one keeps its line", () => {
    const a = makeTask({ id: "req_a", state: "running", text: "first" });
    const b = makeTask({ id: "req_b", state: "pending", text: "second" });
    const view = (rows: ReturnType<typeof makeTask>[]) =>
      withTheme(
        <TasksView
          rows={rows}
          table={EMPTY_CURSOR}
          marks={[]}
          filter=""
          totalTasks={rows.length}
          width={100}
          height={5}
          now={FIXED_NOW}
          dispatchKey="d"
        />,
      );
    const { lastFrame, rerender } = render(view([a, b]));
    rerender(view([a, { ...b, state: "completed" }]));
    assert.match(lastFrame() ?? "", /req_b\s+mac-mini\s+completed/);
    assert.match(lastFrame() ?? "", /req_a\s+mac-mini\s+running/);
  });
});
