/**
 * The home screen: nodes and tasks together, the selected task's reply when
 * there is room, the latency trend and the throughput line, at the sizes people
 * run terminals at.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { cleanup } from "ink-testing-library";
import type { NodeView, TaskView } from "../../../source/core/domain/federation-types.js";
import {
  LATENCY_SAMPLES,
  LatencyHistory,
  withLatencyHistory,
} from "../../../source/core/federation/latency-history.js";
import { SPARK_BARS, sparkline } from "../../../source/present/sparkline.js";
import { displayWidth } from "../../../source/present/text.js";
import { compactCount, throughputOf, throughputParts } from "../../../source/present/throughput.js";
import { ControlCenter } from "../../../source/ui/components/control-center.js";
import { homeLayout, type ScreenSize } from "../../../source/ui/layout.js";
import { appReducer } from "../../../source/ui/state/app-reducer.js";
import type { AppState } from "../../../source/ui/state/app-state.js";
import { topScreen } from "../../../source/ui/state/app-state.js";
import { FIXED_NOW, makeNode, makeTask, seedNodes, seedTasks } from "../../testkit/fake-federation.js";
import { frameAtWidth, press, renderApp, snapshotOf, stateOf, withTheme } from "./helpers.js";

afterEach(() => cleanup());

const SIZE_80: ScreenSize = { columns: 80, rows: 24 };

const TREND_NODES: NodeView[] = seedNodes().map((n, i) => ({
  ...n,
  recentLatencyMs: [3, 4, 8, 2, 12, 5, 3, 3 + i],
}));

function frameAt(size: ScreenSize, state?: AppState): string {
  const s = state ?? stateOf({ size, snapshot: snapshotOf(TREND_NODES, seedTasks()) });
  return frameAtWidth(withTheme(<ControlCenter state={s} now={FIXED_NOW} />), size.columns);
}

/** Every line fits, none wraps, the frame is exactly the terminal's height. */
function assertFits(frame: string, size: ScreenSize): string[] {
  const lines = frame.split("\n");
  assert.equal(lines.length, size.rows, `${lines.length} lines at ${size.columns}×${size.rows}\n${frame}`);
  for (const line of lines) assert.ok(displayWidth(line) <= size.columns, `too wide: ${line}`);
  return lines;
}

describe("the home screen at the sizes people use", () => {
  it("80×24: nodes, the selected node and tasks together; no reply pane; title and hints on their lines", () => {
    const size = { columns: 80, rows: 24 };
    const lines = assertFits(frameAt(size), size);
    assert.match(lines[0] ?? "", /ClawOS Federation\s+Nodes 4\s+Tasks 4.*\? help$/);
    assert.match(lines[1] ?? "", /^\s+NODE\s+STATUS/);
    assert.ok(
      lines.some((l) => /^── alpha ─/.test(l)),
      "the selected node in full",
    );
    const tasksTitle = lines.findIndex((l) => l.startsWith("── Tasks 4"));
    assert.ok(tasksTitle > 1, "a tasks pane under the nodes");
    assert.match(lines[tasksTitle + 1] ?? "", /^\s+TASK\s+TARGET→NODE\s+STATE/);
    assert.match(lines[tasksTitle + 2] ?? "", /e68aee2d\s+alpha\s+running/);
    assert.ok(!lines.some((l) => l.includes("── Reply")), "no room for the reply");
    // The latency trend is the first to go on a narrow screen; nothing is cut mid-bar.
    assert.ok(!lines.some((l) => /[▁-█]/.test(l)), "no sparkline at 80 columns");
    assert.match(lines.at(-1) ?? "", /\? help .*q quit$/);
  });

  it("the selected node in full fills its rows: no blank line under its facts, with a short reason or a long one", () => {
    const long =
      "The gateway of node alpha is not running on 127.0.0.1:18790 (ECONNREFUSED); start it: openclaw --profile alpha gateway run";
    for (const size of [SIZE_80, { columns: 120, rows: 35 }, { columns: 100, rows: 40 }]) {
      for (const reason of ["health 3 ms", long]) {
        const nodes = TREND_NODES.map((n) => (n.id === "alpha" ? { ...n, reason } : n));
        const lines = assertFits(
          frameAt(size, stateOf({ size, snapshot: snapshotOf(nodes, seedTasks()) })),
          size,
        );
        const from = lines.findIndex((l) => /^── alpha ─/.test(l));
        const to = lines.findIndex((l) => l.startsWith("── Tasks"));
        const info = lines.slice(from + 1, to);
        assert.equal(info.length, homeLayout(size, 4).infoRows - 1, info.join("\n"));
        assert.ok(
          info.every((l) => l.trim() !== ""),
          `a blank line at ${size.columns}×${size.rows}:\n${info.join("\n")}`,
        );
        assert.match(info.join("\n"), /localhost 127\.0\.0\.1:18790 · 1 active task/);
        if (reason !== long)
          assert.match(info.at(-1) ?? "", /^ machine mac-mini · profile alpha · agent main/);
      }
    }
  });

  it("80×24: where we are keeps its room in the title; the worker's pid gives way", () => {
    const snapshot = {
      ...snapshotOf(TREND_NODES, seedTasks()),
      worker: {
        running: true,
        kind: "background" as const,
        pid: 18861,
        since: new Date(FIXED_NOW).toISOString(),
      },
    };
    const home = stateOf({ size: SIZE_80, snapshot });
    assert.match(
      assertFits(frameAt(SIZE_80, home), SIZE_80)[0] ?? "",
      /row 1\/4 +worker: background 18861 {2}\? help$/,
    );
    const form = assertFits(frameAt(SIZE_80, press(home, "d")), SIZE_80)[0] ?? "";
    assert.match(form, /› dispatch +worker: background {2}\? help$/, form);
    const detail = assertFits(frameAt(SIZE_80, press(home, "tab", "enter")), SIZE_80)[0] ?? "";
    assert.match(detail, /› e68aee2d +worker: background {2}\? help$/, detail);
  });

  it("100×30: the latency trend appears beside LATENCY; still no reply pane", () => {
    const size = { columns: 100, rows: 30 };
    const lines = assertFits(frameAt(size), size);
    assert.match(lines[1] ?? "", /LATENCY TREND/);
    assert.match(lines[2] ?? "", /› alpha .*3 ms ▂▃▆▂█▄▂▂/);
    assert.ok(lines.some((l) => l.startsWith("── Tasks 4")));
    assert.ok(!lines.some((l) => l.includes("── Reply")));
  });

  it("160×48: the selected task's reply in a pane beside the tasks", () => {
    const size = { columns: 160, rows: 48 };
    const lines = assertFits(frameAt(size), size);
    const title = lines.find((l) => l.startsWith("── Tasks 4")) ?? "";
    assert.match(title, /── Reply req_20260227_203220_e68aee2d {2}running ─/, "side by side");
    const { tasksWidth } = homeLayout(size, 4);
    const inRightPane = (text: string) =>
      lines.some((l) => l.includes(text) && displayWidth(l.slice(0, l.indexOf(text))) >= tasksWidth);
    assert.ok(inRightPane("Reply (streaming…)"), `the detail's reply section\n${lines.join("\n")}`);
    assert.ok(inRightPane("正在测试…"), "the reply so far");
  });

  it("100×40: tall but not wide, the reply goes under the tasks", () => {
    const size = { columns: 100, rows: 40 };
    const lines = assertFits(frameAt(size), size);
    const tasks = lines.findIndex((l) => l.startsWith("── Tasks 4"));
    const reply = lines.findIndex((l) => l.startsWith("── Reply req_20260227_203220_e68aee2d"));
    assert.ok(tasks > 0 && reply > tasks + 2, `tasks at ${tasks}, reply at ${reply}`);
  });

  it("200 nodes at 80×24: the nodes pane is capped and the tasks keep their rows", () => {
    const size = { columns: 80, rows: 24 };
    const many = Array.from({ length: 200 }, (_, i) => makeNode({ id: `n${String(i).padStart(3, "0")}` }));
    const state = stateOf({ size, snapshot: snapshotOf(many, seedTasks()) });
    const lines = assertFits(frameAt(size, state), size);
    const layout = homeLayout(size, 200);
    assert.equal(lines.filter((l) => /^[› ] n\d{3} /.test(l)).length, layout.nodeRows);
    assert.ok(layout.taskRows >= 4, `${layout.taskRows} task rows`);
    assert.equal(lines.filter((l) => /\/3 /.test(l)).length, 4, "all four tasks in view");
  });
});

describe("focus on the home screen", () => {
  it("Tab moves the keys between the tables; each keeps its own selection", () => {
    let s = stateOf({ size: { columns: 120, rows: 40 } });
    s = press(s, "j");
    assert.equal(s.nodes.selectedId, "cloud-node");
    s = press(s, "tab", "j");
    assert.equal(topScreen(s).kind, "tasks");
    assert.equal(s.nodes.selectedId, "cloud-node", "the nodes selection stays");
    assert.equal(s.tasks.selectedId, "req_20260227_200645");
    const frame = frameAt(s.size, s);
    assert.match(frame, /› cloud-node/, "the unfocused table still marks its row");
    assert.match(frame, /── Reply req_20260227_200645 {2}pending/, "the reply pane follows the tasks cursor");
    s = press(s, "tab");
    assert.ok(s.reply, "the reply pane is next, where the screen shows one");
    s = press(s, "tab");
    assert.equal(topScreen(s).kind, "nodes");
    assert.equal(s.tasks.selectedId, "req_20260227_200645");
  });

  it("PgDn on the tasks moves by the tasks pane's rows, not the whole screen", () => {
    const tasks: TaskView[] = Array.from({ length: 100 }, (_, i) =>
      makeTask({ id: `t${String(i).padStart(3, "0")}`, createdAt: new Date(1e12 + i * 1000).toISOString() }),
    );
    const size = { columns: 80, rows: 24 };
    const s = press(stateOf({ size, snapshot: snapshotOf(seedNodes(), tasks) }), "tab", "pagedown");
    const rows = homeLayout(size, 4).taskRows;
    assert.equal(s.tasks.cursor, rows - 1);
    const frame = frameAt(size, s);
    assert.match(frame, new RegExp(`› ${s.tasks.selectedId}`), "the cursor stays in view");
  });

  it("the reply pane streams: a new chunk of the selected task shows without a key", async () => {
    // Under the tasks (ink-testing-library's terminal is 100 columns wide).
    const app = await renderApp({ size: { columns: 100, rows: 40 } });
    await app.waitFor(/── Reply req_20260227_203220_e68aee2d/);
    app.fake.updateTask("req_20260227_203220_e68aee2d", { reply: "正在测试… first chunk, then the second" });
    await app.waitFor(/first chunk, then the second/);
    app.unmount();
  });
});

describe("the reply pane takes the keys", () => {
  const reply = Array.from({ length: 80 }, (_, i) => `reply line ${i}`).join("\n");
  const long = makeTask({ id: "req_20260227_203000_0000beef", state: "completed", reply });
  const wide = { columns: 160, rows: 48 };

  it("Tab goes nodes → tasks → reply → nodes; the scroll keys move the reply, not the tasks", () => {
    let s = stateOf({ size: wide, snapshot: snapshotOf(seedNodes(), [long]) });
    s = press(s, "tab");
    assert.equal(s.reply, null, "the tasks have the keys first");
    s = press(s, "tab");
    assert.deepEqual(s.reply, { scroll: 0, follow: true });
    assert.equal(topScreen(s).kind, "tasks", "the tasks keep their selection under the pane");
    let frame = frameAt(wide, s);
    assert.match(frame, /reply line 79/, "following the end");
    assert.match(frame.split("\n").at(-1) ?? "", /j\/k scroll\s+Enter details\s+Esc to tasks/);

    s = press(s, "g");
    assert.deepEqual(s.reply, { scroll: 0, follow: false });
    frame = frameAt(wide, s);
    assert.match(frame, /reply line 0\b/);
    assert.doesNotMatch(frame, /reply line 79/);
    s = press(s, "j", "j");
    assert.deepEqual(s.reply, { scroll: 2, follow: false });
    assert.equal(s.tasks.cursor, 0, "the tasks cursor did not move");
    s = press(s, "G");
    assert.equal(s.reply?.follow, true, "the end follows again");

    assert.equal(press(s, "escape").reply, null, "Esc gives the keys back to the tasks");
    assert.equal(topScreen(press(s, "escape")).kind, "tasks");
    s = press(s, "tab");
    assert.equal(s.reply, null);
    assert.equal(topScreen(s).kind, "nodes", "and Tab goes on to the nodes");
  });

  it("where there is no reply pane (80×24) Tab goes between the tables; a shrink gives the keys back", () => {
    const small = press(stateOf({ size: SIZE_80, snapshot: snapshotOf(seedNodes(), [long]) }), "tab", "tab");
    assert.equal(small.reply, null);
    assert.equal(topScreen(small).kind, "nodes");
    const focused = press(stateOf({ size: wide, snapshot: snapshotOf(seedNodes(), [long]) }), "tab", "tab");
    assert.ok(focused.reply);
    const shrunk = appReducer(focused, { type: "resize", size: SIZE_80 });
    assert.equal(shrunk.reply, null);
    assert.equal(topScreen(shrunk).kind, "tasks");
  });
});

describe("usage line", () => {
  const totals = (prompt: number, completion: number, tasks: number, usd: number) => ({
    prompt,
    completion,
    tasks,
    cost: { USD: usd },
  });
  const usage = {
    today: totals(9_000, 5_100, 9, 0.06),
    week: totals(50_000, 30_000, 51, 0.35),
    budget: { percent: 62, reached: false, line: "the federation reached its daily budget" },
  };
  const withUsage = (size: ScreenSize) =>
    stateOf({ size, snapshot: { ...snapshotOf(TREND_NODES, seedTasks()), usage } });

  it("status's whole line under the tasks' title when it fits, and tokens leave the title", () => {
    const size = { columns: 160, rows: 48 };
    const lines = assertFits(frameAt(size, withUsage(size)), size);
    const title = lines.findIndex((l) => l.startsWith("── Tasks 4"));
    assert.doesNotMatch(lines[title] ?? "", /tokens today/, "said once, on the usage line");
    assert.match(
      lines[title + 1] ?? "",
      /^ Usage: today 14\.1k tokens \(9 tasks, 0\.06 USD\) · 7 days 80k tokens \(51 tasks, 0\.35 USD\) · budget 62%/,
    );
    assert.match(lines[title + 2] ?? "", /^\s+TASK\s+TARGET→NODE\s+STATE/);
    assert.equal(homeLayout(size, 4, true).taskRows, homeLayout(size, 4).taskRows - 1, "one row for it");
  });

  it("80×24: today's half with the budget, and the frame still fits", () => {
    const lines = assertFits(frameAt(SIZE_80, withUsage(SIZE_80)), SIZE_80);
    const title = lines.findIndex((l) => l.startsWith("── Tasks 4"));
    assert.match(
      lines[title + 1] ?? "",
      /^ Usage today: {2}14\.1k tokens \(9 tasks, 0\.06 USD\) · budget 62%$/,
    );
    assert.equal(lines.filter((l) => /\/3 /.test(l)).length, 4, "all four tasks still in view");
  });

  it("no line without usage, and none when the tasks would be left too few rows", () => {
    const lines = frameAt(SIZE_80).split("\n");
    assert.ok(!lines.some((l) => l.startsWith(" Usage")));
    assert.equal(homeLayout({ columns: 40, rows: 10 }, 4, true).usageRow, false);
  });
});

describe("latency trend", () => {
  it("draws one bar per sample, scaled from zero to the largest", () => {
    assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8), SPARK_BARS);
    assert.equal(sparkline([5, 5, 5], 10), "███");
    assert.equal(sparkline([0, 0], 5), "▁▁");
    assert.equal(sparkline([], 5), "");
    assert.equal(sparkline([1, 2, 3], 0), "");
  });

  it("keeps the newest samples when the cell is narrower than the history", () => {
    assert.equal(sparkline([100, 1, 8], 2), "▁█");
    assert.equal(
      displayWidth(
        sparkline(
          Array.from({ length: 50 }, (_, i) => i),
          12,
        ),
      ),
      12,
    );
  });

  it("the ring keeps the last samples, records a probe once, and forgets removed nodes", () => {
    const history = new LatencyHistory();
    for (let i = 1; i <= LATENCY_SAMPLES + 5; i++) assert.equal(history.note("a", i * 1000, i), true);
    const recent = history.recent("a");
    assert.equal(recent.length, LATENCY_SAMPLES);
    assert.equal(recent[0], 6, "oldest kept");
    assert.equal(recent.at(-1), LATENCY_SAMPLES + 5, "newest last");
    assert.equal(history.note("a", (LATENCY_SAMPLES + 5) * 1000, 99), false, "the same probe again");
    assert.equal(history.recent("a").at(-1), LATENCY_SAMPLES + 5);
    history.keepOnly(new Set(["b"]));
    assert.deepEqual(history.recent("a"), []);
  });

  it("views get their recent latencies, sampled by when each was measured", () => {
    const history = new LatencyHistory();
    const at = new Map([["alpha", 1000]]);
    const views = [makeNode({ id: "alpha", latencyMs: 4 }), makeNode({ id: "down", latencyMs: undefined })];
    let out = withLatencyHistory(views, history, (v) => at.get(v.id));
    assert.deepEqual(out[0]?.recentLatencyMs, [4]);
    assert.equal(out[1]?.recentLatencyMs, undefined, "never measured: no trend");
    out = withLatencyHistory(views, history, (v) => at.get(v.id));
    assert.deepEqual(out[0]?.recentLatencyMs, [4], "the same probe in the next snapshot counts once");
    at.set("alpha", 2000);
    out = withLatencyHistory([makeNode({ id: "alpha", latencyMs: 9 })], history, (v) => at.get(v.id));
    assert.deepEqual(out[0]?.recentLatencyMs, [4, 9]);
  });
});

describe("throughput line", () => {
  const ago = (ms: number) => new Date(FIXED_NOW - ms).toISOString();
  const tasks = [
    makeTask({ id: "a", state: "completed", finishedAt: ago(60_000) }),
    makeTask({ id: "b", state: "completed", finishedAt: ago(20 * 60_000) }),
    makeTask({ id: "c", state: "completed", finishedAt: ago(3 * 3600_000) }),
    makeTask({ id: "d", state: "failed", finishedAt: ago(10 * 60_000) }),
    makeTask({ id: "e", state: "running" }),
    makeTask({ id: "f", state: "pending" }),
    makeTask({ id: "g", state: "claimed" }),
  ];

  it("counts what finished in the last 5 minutes and hour, and what runs and waits", () => {
    const t = throughputOf(snapshotOf(seedNodes(), tasks), FIXED_NOW);
    assert.deepEqual(t, { done5m: 1, doneHour: 2, failedHour: 1, running: 1, waiting: 2 });
    assert.deepEqual(throughputParts(t), [
      "1 done in 5 min",
      "2 in 1 h",
      "1 running",
      "2 waiting",
      "1 failed in 1 h",
    ]);
  });

  it("kept from snapshot to snapshot, it counts what a full count does, as tasks change and time passes", () => {
    const naive = (list: readonly TaskView[], now: number) => {
      const within = (t: TaskView, ms: number) => now - Date.parse(t.finishedAt ?? "") <= ms;
      return {
        done5m: list.filter((t) => t.state === "completed" && within(t, 5 * 60_000)).length,
        doneHour: list.filter((t) => t.state === "completed" && within(t, 3600_000)).length,
        failedHour: list.filter((t) => t.state === "failed" && within(t, 3600_000)).length,
      };
    };
    // A seeded walk: tasks finish, fail, go and arrive while the clock moves on.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let now = FIXED_NOW;
    let list: TaskView[] = Array.from({ length: 300 }, (_, i) =>
      makeTask({
        id: `t${i}`,
        state: i % 3 === 0 ? "running" : i % 7 === 0 ? "failed" : "completed",
        finishedAt: ago(rand() * 2 * 3600_000),
      }),
    );
    for (let step = 0; step < 200; step++) {
      now += rand() * 120_000;
      list = list.slice();
      for (let k = 0; k < 3; k++) {
        const at = Math.floor(rand() * list.length);
        const t = list[at] as TaskView;
        list[at] = {
          ...t,
          state: rand() < 0.8 ? "completed" : "failed",
          finishedAt: new Date(now).toISOString(),
        };
      }
      if (rand() < 0.3) list.splice(Math.floor(rand() * list.length), 1);
      if (rand() < 0.3) list.push(makeTask({ id: `n${step}`, state: "pending" }));
      // Now and then a snapshot changes more than the kept times can follow.
      if (step % 50 === 49) list = list.map((t) => ({ ...t }));
      const { done5m, doneHour, failedHour } = throughputOf(snapshotOf(seedNodes(), list), now);
      assert.deepEqual({ done5m, doneHour, failedHour }, naive(list, now), `step ${step}`);
    }
  });

  it("shows tokens today when the snapshot has them", () => {
    const t = throughputOf(snapshotOf(seedNodes(), []), FIXED_NOW);
    assert.equal(throughputParts(t, 12_345).at(-1), "12k tokens today");
    assert.equal(compactCount(950), "950");
    assert.equal(compactCount(1_234), "1.2k");
    assert.equal(compactCount(4_100_000), "4.1M");
  });

  it("is the tasks pane's title, cut at a phrase, never in the middle of one", () => {
    const size = { columns: 80, rows: 24 };
    const frame = frameAt(size, stateOf({ size, snapshot: snapshotOf(seedNodes(), tasks) }));
    const title = frame.split("\n").find((l) => l.startsWith("── Tasks 7")) ?? "";
    assert.match(
      title,
      /── Tasks 7 {2}1 done in 5 min · 2 in 1 h · 1 running · 2 waiting (· 1 failed in 1 h )?─+$/,
    );
    assert.equal(displayWidth(title), 80);
  });
});
