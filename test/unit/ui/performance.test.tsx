/**
 * The changes the TUI benchmarks (bench/suites/tui-*.ts; BENCHMARKS.md, "Control center") led to:
 * each keeps what it promises (same order, same behaviour), and the React build
 * the control center runs on is the production one.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { render } from "ink-testing-library";
import { displayWidth } from "../../../source/present/text.js";
import { createCoalescer, createFrameBudget, type Schedule } from "../../../source/ui/coalesce.js";
import { TasksView } from "../../../source/ui/components/tasks-view.js";
import { EMPTY_CURSOR } from "../../../source/ui/state/navigation.js";
import { compareTasks, resortTasks, selectTaskRows, sortTasks } from "../../../source/ui/state/rows.js";
import { FIXED_NOW, makeTask } from "../../testkit/fake-federation.js";
import { snapshotOf, withTheme } from "./helpers.js";

const RUN_TUI = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
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

describe("sorting the next snapshot from the last one", () => {
  const states = ["pending", "running", "completed", "failed", "cancelled", "claimed"] as const;
  /** xorshift32: the same edits every run. */
  function random(seed: number): () => number {
    let x = seed;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
  }
  const same = (a: readonly unknown[], b: readonly unknown[]) =>
    a.length === b.length && a.every((t, i) => t === b[i]);

  it("gives exactly sortTasks' rows (the same objects) whatever changed, or declines", () => {
    const rand = random(7);
    let serial = 0;
    const fresh = () =>
      makeTask({
        id: `req_20260101_000000_${(serial++).toString(16).padStart(8, "0")}`,
        state: states[Math.floor(rand() * states.length)],
        // Few distinct times: ties that ids must break.
        createdAt: new Date(1e12 + Math.floor(rand() * 50) * 1000).toISOString(),
      });
    let tasks = Array.from({ length: 400 }, fresh);
    let sorted = sortTasks(tasks);
    let incremental = 0;
    for (let step = 0; step < 400; step++) {
      const next = tasks.slice();
      const edits = rand() < 0.1 ? 200 : 1 + Math.floor(rand() * 12);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * next.length);
        const kind = rand();
        const task = next[at];
        if (kind < 0.25) next.push(fresh());
        else if (kind < 0.4) next.splice(at, 1);
        else if (kind < 0.5) next.splice(at, 0, fresh());
        // A new object for the same task: moved on, or only a new reply.
        else if (kind < 0.8 && task)
          next[at] = { ...task, state: states[Math.floor(rand() * states.length)] ?? "pending" };
        else if (task) next[at] = { ...task, reply: `chunk ${step}` };
      }
      // Now and then the same object twice, or the same id and time twice.
      const twice = next[Math.floor(rand() * next.length)];
      if (rand() < 0.03 && twice) next.push(rand() < 0.5 ? twice : { ...twice });
      if (rand() < 0.05) next.reverse();
      const expected = sortTasks(next);
      const got = resortTasks(tasks, sorted, next);
      if (got) {
        incremental++;
        assert.ok(same(got, expected), `step ${step}`);
      }
      tasks = next;
      sorted = expected;
    }
    // Most steps are a few changes: those take the short way.
    assert.ok(incremental > 250, `${incremental} of 400 sorted incrementally`);
  });

  it("selectTaskRows sorts snapshot after snapshot in the same order as from scratch", () => {
    let tasks = Array.from({ length: 300 }, (_, i) =>
      makeTask({
        id: `req_20260101_000000_${i.toString(16).padStart(8, "0")}`,
        state: states[i % states.length],
        createdAt: new Date(1e12 + i * 1000).toISOString(),
      }),
    );
    for (let version = 1; version <= 20; version++) {
      const next = tasks.slice(1);
      next.push(
        makeTask({
          id: `req_20260101_000000_${(300 + version).toString(16).padStart(8, "0")}`,
          state: "pending",
          createdAt: new Date(1e12 + (300 + version) * 1000).toISOString(),
        }),
      );
      const at = (version * 37) % next.length;
      const moved = next[at];
      if (moved) next[at] = { ...moved, state: moved.state === "running" ? "completed" : "running" };
      tasks = next;
      for (const filter of ["", "state:completed"]) {
        const snapshot = { ...snapshotOf(undefined, tasks), version };
        const rows = selectTaskRows(snapshot, filter);
        const all = snapshot.tasks;
        assert.ok(same(rows, sortTasks(filter === "" ? all : all.filter((t) => t.state === "completed"))));
      }
    }
  });
});

describe("Ink's text work remembered across frames", () => {
  const UI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "source", "ui");

  it("loading the control center points Ink's string-width and ansi-tokenize at the caching modules", () => {
    const script = `
      const { loadTui } = await import(${JSON.stringify(path.join(UI, "load-tui.js"))});
      await loadTui();
      const width = await import(${JSON.stringify(path.join(UI, "width.js"))});
      const ansi = await import(${JSON.stringify(path.join(UI, "ansi-cache.js"))});
      const seen = [
        (await import("string-width")).default === width.default,
        (await import("@alcalzone/ansi-tokenize")).tokenize === ansi.tokenize,
      ];
      process.stdout.write(seen.join(","));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: UI,
      encoding: "utf8",
    });
    assert.equal(out, "true,true");
  });

  it("gives what the packages give, and the same cells for the same line", async () => {
    const { default: stringWidth } = await import("string-width");
    const { default: cachedStringWidth } = await import("../../../source/ui/width.js");
    for (const text of [
      "plain",
      "开发 babel 插件",
      "🚀 v2",
      "\u001b[31mred\u001b[39m",
      "a\tb",
      "",
      "› node-001 → 完成。All checks passed … ─── ·",
      "e\u0301 한국어 ｶﾀｶﾅ",
      "正在处理… 第 3 段 chunk 3.",
    ]) {
      assert.equal(cachedStringWidth(text), stringWidth(text), text);
      assert.equal(cachedStringWidth(text), stringWidth(text), `${text} (cached)`);
      const options = { countAnsiEscapeCodes: true };
      assert.equal(cachedStringWidth(text, options), stringWidth(text, options), `${text} with options`);
    }
    const ansi = await import("@alcalzone/ansi-tokenize");
    const cached = await import("../../../source/ui/ansi-cache.js");
    const line = "\u001b[1m› 任务\u001b[22m \u001b[32mcompleted\u001b[39m done";
    const cells = cached.styledCharsFromTokens(cached.tokenize(line));
    assert.deepEqual(cells, ansi.styledCharsFromTokens(ansi.tokenize(line)));
    assert.equal(cached.styledCharsFromTokens(cached.tokenize(line)), cells);
    assert.equal(cached.styledCharsToString(cells), ansi.styledCharsToString(cells));
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
