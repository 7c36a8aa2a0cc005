/**
 * What trying the control center as a new user (in tmux, against stub gateways)
 * turned up, one describe per finding: each fails on the old behaviour.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { cleanup, render } from "ink-testing-library";
import type { TaskState } from "../../../source/core/domain/schema.js";
import { stalledInboxes, waitingHint } from "../../../source/core/federation/waiting.js";
import { type Column, fitColumns } from "../../../source/present/columns.js";
import { clipMiddle, displayWidth } from "../../../source/present/text.js";
import { nodeColumns } from "../../../source/present/vocabulary.js";
import { ControlCenter } from "../../../source/ui/components/control-center.js";
import { BottomLine, fitHints, keyHints } from "../../../source/ui/components/status-bar.js";
import { TaskDetail } from "../../../source/ui/components/task-detail.js";
import { parseFilter, taskMatches } from "../../../source/ui/features/filter/query.js";
import { buildHelpLines } from "../../../source/ui/features/help/lines.js";
import { HelpOverlay } from "../../../source/ui/features/help/view.js";
import { ACTION_NAMES, helpEntries, resolveKeymap } from "../../../source/ui/keymap.js";
import { bodyHeight, homeLayout } from "../../../source/ui/layout.js";
import { appReducer } from "../../../source/ui/state/app-reducer.js";
import { topScreen } from "../../../source/ui/state/app-state.js";
import { completeCommand, suggestCommands } from "../../../source/ui/state/palette.js";
import { FIXED_NOW, makeNode, makeTask, seedNodes, seedTasks } from "../../testkit/fake-federation.js";
import { press, SIZE_80x24, SIZE_120x40, snapshotOf, stateOf, type, withTheme } from "./helpers.js";

afterEach(() => cleanup());

function frameOf(node: React.ReactElement): string {
  const { lastFrame } = render(withTheme(node));
  return lastFrame() ?? "";
}

function screen(state: ReturnType<typeof stateOf>): string {
  return frameOf(<ControlCenter state={state} now={FIXED_NOW} />);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function lastLine(frame: string): string {
  return frame.split("\n").at(-1) ?? "";
}

describe("the hint line offers what works on the screen in view", () => {
  const km = resolveKeymap();

  it("the dispatch form does not advertise ? : / q, which type into its text field there", () => {
    const form = lastLine(screen(press(stateOf({ size: SIZE_80x24 }), "d")));
    assert.match(form, /Enter send\s+Tab next field/);
    assert.doesNotMatch(form, /\? help|: command|\/ filter|q quit/);
  });

  it("the help overlay offers scrolling and closing, not q quit (q closes it)", () => {
    const hints = keyHints("help", km, false);
    assert.deepEqual(hints, ["j/k scroll", "? or Esc closes", "Ctrl+C quit"]);
    const s = press(stateOf(), "?", "q");
    assert.equal(s.help, null);
    assert.equal(s.quit, false, "q in the help closes it, as the hint says");
  });

  it("the detail view offers scrolling and the actions that apply to its task; the nodes view its own", () => {
    const detail = (task: TaskState) => keyHints("detail", km, false, [], false, false, task).join("  ");
    assert.match(detail("failed"), /j\/k scroll\s+Esc back\s+r retry\s+d dispatch/);
    assert.match(detail("running"), /Esc back\s+x cancel\s+d dispatch/);
    assert.doesNotMatch(
      detail("completed"),
      /retry|cancel/,
      "nothing to retry or cancel on a completed task",
    );
    assert.doesNotMatch(
      keyHints("tasks", km, false, [], false, false, "completed").join("  "),
      /retry|cancel/,
    );
    assert.match(keyHints("nodes", km, false).join("  "), /Enter its tasks\s+Tab to tasks/);
    assert.match(keyHints("firstRun", km, false).join("  "), /i look for local profiles/);
  });

  it("with marked tasks, the line says how many and the bulk actions that apply to them", () => {
    let s = press(stateOf({ size: SIZE_120x40 }), "tab", "space", "space");
    // The running and the pending task: they can be cancelled, not retried.
    assert.match(lastLine(screen(s)), /2 marked:\s+x cancel them\s+Space unmark\s+Esc clear marks/);
    assert.doesNotMatch(lastLine(screen(s)), /retry/);
    const withFailed = press(s, "space");
    assert.match(
      lastLine(screen(withFailed)),
      /3 marked:\s+r retry them\s+x cancel them\s+Space unmark\s+Esc clear marks/,
    );
    const completedOnly = press(stateOf({ size: SIZE_120x40 }), "tab", "G", "space");
    assert.match(lastLine(screen(completedOnly)), /1 marked:\s+Space unmark\s+Esc clear marks/);
    s = press(s, "escape");
    assert.deepEqual(s.tasks.marks, []);
    assert.doesNotMatch(lastLine(screen(s)), /marked/);
  });

  it("an empty tasks table does not offer keys that act on a row", () => {
    const s = press(stateOf({ snapshot: snapshotOf(seedNodes(), []) }), "tab");
    const line = lastLine(screen(s));
    assert.doesNotMatch(line, /Enter details|r retry|x cancel/);
    assert.match(line, /d dispatch/);
  });

  it("read-only hides every mutating key, the mark key included", () => {
    for (const context of ["nodes", "tasks", "detail", "firstRun"] as const) {
      const line = keyHints(context, km, true).join("  ");
      assert.doesNotMatch(line, /dispatch|retry|cancel|mark|look for/, `${context}: ${line}`);
    }
  });

  it("at 80 columns the line is cut before quit, never quit itself", () => {
    const hints = fitHints(keyHints("tasks", km, false), 79);
    assert.equal(hints[0], "? help");
    assert.equal(hints.at(-1), "q quit");
    assert.ok(displayWidth(hints.join("  ")) <= 79);
    const frame = frameOf(
      <BottomLine
        context="tasks"
        input={null}
        confirm={null}
        message={null}
        lastError={undefined}
        keymap={km}
        readonly={false}
        width={80}
      />,
    );
    assert.match(frame, /q quit$/);
  });
});

describe("the help overlay", () => {
  it("lists the palette commands (they were nowhere on screen before typing :)", () => {
    const frame = frameOf(
      <HelpOverlay keymap={resolveKeymap()} readonly={false} scroll={0} width={120} height={37} />,
    );
    for (const command of [
      ":nodes [filter]",
      ":tasks [filter]",
      ":dispatch [text]",
      ":refresh",
      ":init",
      ":quit",
    ])
      assert.ok(frame.includes(command), command);
    assert.match(frame, /Tab completes/);
  });

  it("fits 80×24 whole, commands and filter terms included, none cut off", () => {
    const lines = buildHelpLines(resolveKeymap(), false, 80);
    assert.ok(lines.length <= bodyHeight(SIZE_80x24), `${lines.length} lines`);
    const frame = frameOf(
      <HelpOverlay keymap={resolveKeymap()} readonly={false} scroll={0} width={80} height={21} />,
    );
    for (const word of ["-term not", "(Tab completes)", "Discover local profiles", "Change target/priority"])
      assert.ok(frame.includes(word), word);
    for (const line of frame.split("\n")) assert.ok(displayWidth(line) <= 80, line);
    assert.doesNotMatch(frame, /more line/, "no scrolling needed at 80×24");
  });

  it("at 80×24 lists every key of the keymap, whole, and keeps a free line for the next one", () => {
    for (const readonly of [false, true]) {
      const keymap = resolveKeymap();
      const lines = buildHelpLines(keymap, readonly, 80);
      assert.ok(lines.length < bodyHeight(SIZE_80x24), `${lines.length} lines (read-only ${readonly})`);
      const frame = frameOf(
        <HelpOverlay keymap={keymap} readonly={readonly} scroll={0} width={80} height={21} />,
      );
      for (const entry of helpEntries(keymap, readonly).flatMap((g) => g.entries)) {
        const listed = new RegExp(`${escapeRegExp(entry.keys)}\\s+${escapeRegExp(entry.help)}`);
        assert.match(frame, listed, `${entry.action} (read-only ${readonly})`);
      }
      if (!readonly)
        assert.equal(
          helpEntries(keymap, false).flatMap((g) => g.entries).length,
          ACTION_NAMES.length,
          "every action has its line",
        );
    }
  });

  it("says so when there is more above or below, and every line still comes into view", () => {
    const keymap = resolveKeymap();
    const total = buildHelpLines(keymap, false, 60).length;
    const top = frameOf(<HelpOverlay keymap={keymap} readonly={false} scroll={0} width={60} height={10} />);
    assert.match(lastLine(top), /↓ \d+ more lines below/);
    const bottom = frameOf(
      <HelpOverlay keymap={keymap} readonly={false} scroll={total} width={60} height={10} />,
    );
    assert.match(bottom.split("\n")[0] ?? "", /↑ \d+ more lines above/);
    assert.doesNotMatch(bottom, /below/);
    assert.match(bottom, /-term not/, "the last line is reachable");
  });

  it("read-only: no mark key, no dispatch form keys, no mutating commands", () => {
    const frame = frameOf(
      <HelpOverlay keymap={resolveKeymap()} readonly scroll={0} width={100} height={30} />,
    );
    assert.doesNotMatch(frame, /Space\s+Mark/);
    assert.doesNotMatch(frame, /Next \/ previous field|Change target/);
    assert.doesNotMatch(frame, /:dispatch|:init|:incubate/);
    assert.match(frame, /:tasks \[filter\]/);
  });
});

describe("read-only sessions", () => {
  it("refuse marking, which only serves bulk retry and cancel", () => {
    const s = press(stateOf({ readonly: true }), "tab", "space");
    assert.deepEqual(s.tasks.marks, []);
    assert.match(s.message?.text ?? "", /Read-only session: marking/);
  });

  it("the palette neither suggests nor completes mutating commands, and refuses :incubate", () => {
    assert.deepEqual(
      suggestCommands("", true).map((c) => c.name),
      ["nodes", "tasks", "audit", "refresh", "help", "quit"],
    );
    assert.equal(completeCommand("di", true), "di");
    assert.equal(completeCommand("di", false), "dispatch ");
    const s = press(type(press(stateOf({ readonly: true }), ":"), "incubate"), "enter");
    assert.match(s.message?.text ?? "", /Read-only session: incubation is turned off/);
  });
});

describe("filter words match what the screen says", () => {
  it("state:done finds completed tasks (the status line counts them as “done”)", () => {
    const done = seedTasks().filter((t) => taskMatches(t, parseFilter("state:done")));
    assert.deepEqual(
      done.map((t) => t.state),
      ["completed"],
    );
    const canceled = makeTask({ id: "req_1", state: "cancelled" });
    assert.ok(taskMatches(canceled, parseFilter("state:canceled")));
  });

  it("a filter that hides every row shows row 0/0 in the title, not nothing", () => {
    const s = press(type(press(stateOf(), "tab", "/"), "zzz-nothing"), "enter");
    assert.match(screen(s).split("\n")[0] ?? "", /Tasks 4\s+row 0\/0\s+\/zzz-nothing/);
  });
});

describe("discovery and dispatch with nothing to work on", () => {
  it("i with nodes already there says nothing new was found, not that no profiles exist", () => {
    let s = press(stateOf(), "i");
    s = appReducer(s, { type: "discovered", ids: [] });
    assert.match(s.message?.text ?? "", /No new OpenClaw profiles to add/);
    let first = press(stateOf({ snapshot: snapshotOf([], []) }), "i");
    first = appReducer(first, { type: "discovered", ids: [] });
    assert.match(first.message?.text ?? "", /No local OpenClaw profiles found/);
  });

  it("d with no node at all explains what to do instead of opening a form that cannot send", () => {
    const s = press(stateOf({ snapshot: snapshotOf([], []) }), "d");
    assert.equal(topScreen(s).kind, "nodes");
    assert.equal(s.form, null);
    assert.match(s.message?.text ?? "", /No node to dispatch to yet: add one first \(i looks for/);
    const tasks = screen(press(stateOf({ snapshot: snapshotOf([], []) }), "tab"));
    assert.match(tasks, /no node to run one/);
    assert.doesNotMatch(tasks, /Press d to dispatch/);
  });
});

describe("the nodes view shows the selected node in full", () => {
  const down = makeNode({
    id: "alpha",
    status: "unreachable",
    reason: "The gateway of node alpha is not running on 127.0.0.1:43417 (ECONNREFUSED).",
    latencyMs: undefined,
    lastHeartbeatAt: undefined,
    profile: "alpha",
  });

  it("the reason cut in the REASON column is whole under the table, with the node's facts", () => {
    const frame = screen(
      stateOf({ size: SIZE_80x24, snapshot: snapshotOf([down, ...seedNodes().slice(1)]) }),
    );
    assert.match(frame, /› alpha\s+unreachable The gateway of node \S*…/, "cut in the table at 80 columns");
    assert.match(frame, /── alpha ─+/);
    assert.match(frame, /unreachable: The gateway of node alpha is not running on 127\.0\.0\.1:43417/);
    assert.match(frame, /\(ECONNREFUSED\)\./);
    assert.match(frame, /localhost 127\.0\.0\.1:18789 · 0 active tasks · no worker heartbeat · machine/);
    for (const line of frame.split("\n")) assert.ok(displayWidth(line) <= 80, line);
    assert.equal(frame.split("\n").length, 24);
  });

  it("the page of the nodes table leaves room for it, and the cursor stays visible", () => {
    const layout = homeLayout(SIZE_80x24, 60);
    assert.equal(layout.infoRows, 4);
    assert.equal(1 + layout.nodeRows + layout.infoRows + layout.tasksHeight, bodyHeight(SIZE_80x24));
    const many = Array.from({ length: 60 }, (_, i) => makeNode({ id: `node-${String(i).padStart(2, "0")}` }));
    const s = press(stateOf({ size: SIZE_80x24, snapshot: snapshotOf(many, []) }), "pagedown", "pagedown");
    const frame = screen(s);
    assert.match(frame, new RegExp(`› ${s.nodes.selectedId}`));
    assert.match(frame, new RegExp(`── ${s.nodes.selectedId} ─`));
  });

  it("REASON keeps its width as latencies change, and spare room goes to the last column", () => {
    const a = fitColumns(nodeColumns(FIXED_NOW), [makeNode({ id: "a", reason: "health 9 ms" })], 150);
    const b = fitColumns(nodeColumns(FIXED_NOW), [makeNode({ id: "a", reason: "health 10 ms" })], 150);
    const why = (f: typeof a) => f.find((c) => c.column.id === "reason")?.width;
    assert.equal(why(a), why(b));
    assert.equal(why(a), 24);
    assert.equal(a.at(-1)?.column.id, "notes");
    const cols: Column<{ a: string; b: string }>[] = [
      { id: "a", header: "A", drop: 0, value: (r) => r.a, flex: true, min: 4 },
      { id: "b", header: "B", drop: 1, value: (r) => r.b, flex: true, min: 4 },
    ];
    assert.deepEqual(
      fitColumns(cols, [{ a: "aa", b: "bb" }], 30).map((f) => f.width),
      [4, 25],
    );
  });

  it("calls the in-flight column ACTIVE: a queued task is not running", () => {
    assert.ok(nodeColumns(FIXED_NOW).some((c) => c.header === "ACTIVE"));
    assert.ok(!nodeColumns(FIXED_NOW).some((c) => c.header === "RUN"));
  });
});

describe("the task detail view", () => {
  const queued = makeTask({ id: "req_20260227_203000_00000001", node: "alpha", state: "pending" });

  it("says why a pending task is not moving and what would move it", () => {
    const noWorker = makeNode({ id: "alpha", lastHeartbeatAt: undefined, machine: "mac-mini" });
    assert.match(
      waitingHint(queued, noWorker, FIXED_NOW) ?? "",
      /No worker has reported for alpha: nothing picks the task up until `clawos node run --node alpha` runs on mac-mini/,
    );
    const quiet = makeNode({ id: "alpha", lastHeartbeatAt: new Date(FIXED_NOW - 5 * 60_000).toISOString() });
    assert.match(waitingHint(queued, quiet, FIXED_NOW) ?? "", /last heard from 5m ago/);
    const fresh = makeNode({ id: "alpha" });
    assert.match(waitingHint(queued, fresh, FIXED_NOW) ?? "", /picks it up shortly/);
    assert.equal(waitingHint({ ...queued, state: "running" }, noWorker, FIXED_NOW), undefined);
    // A fresh heartbeat that says the worker stopped, or cannot reach its gateway, is not "shortly".
    const stopped = makeNode({ id: "alpha", worker: { state: "stopped", gatewayReachable: true } });
    assert.match(waitingHint(queued, stopped, FIXED_NOW) ?? "", /Its worker has stopped: the task runs when/);
    const cutOff = makeNode({ id: "alpha", worker: { state: "running", gatewayReachable: false } });
    assert.match(waitingHint(queued, cutOff, FIXED_NOW) ?? "", /cannot reach its gateway/);
    assert.deepEqual(stalledInboxes([queued], [stopped], FIXED_NOW), [
      "1 task waits in alpha's inbox and its worker has stopped: run clawos node run --node alpha on mac-mini.",
    ]);
    assert.deepEqual(stalledInboxes([queued], [fresh], FIXED_NOW), []);
    const frame = frameOf(
      <TaskDetail
        task={queued}
        taskId={queued.id}
        node={noWorker}
        scroll={0}
        follow={false}
        width={80}
        height={20}
        now={FIXED_NOW}
      />,
    );
    // Under Note, as `tasks show` prints it.
    assert.match(frame, /Note\s+Waiting in alpha's inbox\. No worker/);
  });

  it("wraps long history details instead of cutting them", () => {
    const detail =
      "beta: Node beta's gateway answered POST /v1/chat/completions with HTTP 500: internal error.";
    const task = makeTask({
      id: "req_2",
      state: "failed",
      history: [{ at: "2026-02-27T20:33:00Z", event: "attempt-failed", detail }],
    });
    const frame = frameOf(
      <TaskDetail
        task={task}
        taskId="req_2"
        scroll={0}
        follow={false}
        width={60}
        height={30}
        now={FIXED_NOW}
      />,
    );
    assert.match(frame, /20:33:00 {2}attempt-failed {2}beta: Node beta's/);
    assert.match(frame, /\n {12}\S.*internal error\./, "continued under the event, not cut with …");
  });

  it("announces hidden lines above and below", () => {
    const task = makeTask({ id: "req_3", state: "running", reply: "line\n".repeat(40) });
    const following = frameOf(
      <TaskDetail task={task} taskId="req_3" scroll={0} follow width={80} height={10} now={FIXED_NOW} />,
    );
    assert.match(following.split("\n")[0] ?? "", /↑ \d+ more lines above/);
    assert.doesNotMatch(following, /below/);
    const top = frameOf(
      <TaskDetail
        task={task}
        taskId="req_3"
        scroll={0}
        follow={false}
        width={80}
        height={10}
        now={FIXED_NOW}
      />,
    );
    assert.match(top, /^Task\s+req_3\nState\s+running/);
    assert.match(lastLine(top), /↓ \d+ more lines below/);
  });
});

describe("before the first read", () => {
  it("a facade's version-0 placeholder shows that it is reading, not the first-run welcome", () => {
    const placeholder = { ...snapshotOf([], []), version: 0 };
    const frame = screen(stateOf({ snapshot: placeholder }));
    assert.match(frame, /Reading the federation…/);
    assert.doesNotMatch(frame, /no nodes yet/);
    const empty = screen(stateOf({ snapshot: snapshotOf([], []) }));
    assert.match(empty, /no nodes yet/);
  });
});

describe("small terminals and long paths", () => {
  it("a terminal under 40×10 gets a note that fits it, not a frame that wraps into garbage", () => {
    const frame = screen(stateOf({ size: { columns: 30, rows: 8 } }));
    const lines = frame.split("\n");
    assert.ok(lines.length <= 8, frame);
    for (const line of lines) assert.ok(displayWidth(line) <= 30, line);
    assert.match(frame.replace(/\n/g, " "), /Terminal too small \(30×8\)/);
    assert.match(frame.replace(/\n/g, " "), /press q to quit/);
    const s = press(stateOf({ size: { columns: 30, rows: 8 } }), "q");
    assert.equal(s.quit, true, "keys still work");
    const back = appReducer(stateOf({ size: { columns: 30, rows: 8 } }), {
      type: "resize",
      size: SIZE_80x24,
    });
    assert.match(screen(back), /ClawOS Federation/);
  });

  it("the blackboard path is cut in its middle, keeping where it starts and ends", () => {
    assert.equal(clipMiddle("~/.openclaw/clawos/clawos-blackboard/federation", 20), "~/.opencla…ederation");
    assert.equal(clipMiddle("short", 20), "short");
    const wide = clipMiddle("路径/很长的/中文/目录/名字/在这里", 11);
    assert.ok(displayWidth(wide) <= 11 && displayWidth(wide) >= 10, wide);
    assert.match(wide, /^路径.*….*这里$/);
  });
});
