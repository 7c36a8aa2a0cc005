import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { cleanup, render } from "ink-testing-library";
import { displayWidth } from "../../../source/present/text.js";
import { ControlCenter } from "../../../source/ui/components/control-center.js";
import { FirstRunPanel, NodesView } from "../../../source/ui/components/nodes-view.js";
import { BottomLine, MessageLine, SummaryLine } from "../../../source/ui/components/status-bar.js";
import { TaskDetail } from "../../../source/ui/components/task-detail.js";
import { TasksView } from "../../../source/ui/components/tasks-view.js";
import { createForm } from "../../../source/ui/features/dispatch/form.js";
import { DispatchForm } from "../../../source/ui/features/dispatch/view.js";
import { HelpOverlay } from "../../../source/ui/features/help/view.js";
import { resolveKeymap } from "../../../source/ui/keymap.js";
import { EMPTY_CURSOR } from "../../../source/ui/state/navigation.js";
import { selectNodeRows, selectTaskRows } from "../../../source/ui/state/rows.js";
import { FIXED_NOW, makeNode, makeTask, seedTasks } from "../../testkit/fake-federation.js";
import { press, SIZE_80x24, snapshotOf, stateOf, type, withTheme } from "./helpers.js";

// Absolute times show in the local zone: this file's expectations are written in UTC.
process.env.TZ = "UTC";

afterEach(() => cleanup());

function frameOf(node: React.ReactElement): string {
  const { lastFrame } = render(withTheme(node));
  return lastFrame() ?? "";
}

describe("NodesView", () => {
  it("shows id, status with reason, transport, endpoint, latency, in-flight, heartbeat age and notes", () => {
    const snapshot = snapshotOf();
    const frame = frameOf(
      <NodesView
        rows={selectNodeRows(snapshot, "")}
        table={EMPTY_CURSOR}
        filter=""
        width={120}
        height={10}
        now={FIXED_NOW}
      />,
    );
    const lines = frame.split("\n");
    assert.match(
      lines[0] ?? "",
      /NODE\s+STATUS\s+REASON\s+TRANSPORT\s+ADDRESS\s+LATENCY\s+ACTIVE\s+HEARTBEAT\s+NOTES/,
    );
    assert.match(
      frame,
      /› alpha\s+online\s+health 3 ms\s+localhost\s+127\.0\.0\.1:18790\s+3 ms\s+1\s+5s ago\s+Quant no/,
    );
    assert.match(
      frame,
      /macbook-air\s+asleep\s+no heartbeat for 42 min\s+blackboard\s+100\.71\.170\.104:18789\s+—\s+0\s+42m ago/,
    );
    assert.match(frame, /cloud-node\s+planned\s+no endpoint yet\s+planned\s+—\s+—\s+0\s+—/);
  });

  it("says when the filter hides every node", () => {
    const frame = frameOf(
      <NodesView rows={[]} table={EMPTY_CURSOR} filter="state:zzz" width={80} height={5} now={FIXED_NOW} />,
    );
    assert.match(frame, /No node matches “state:zzz”/);
  });
});

describe("TasksView", () => {
  it("lists tasks active-first with id, target→node, state, priority, age and description", () => {
    const snapshot = snapshotOf();
    const frame = frameOf(
      <TasksView
        rows={selectTaskRows(snapshot, "")}
        table={EMPTY_CURSOR}
        marks={["req_20260227_195930"]}
        filter=""
        totalTasks={4}
        width={100}
        height={10}
        now={FIXED_NOW}
        dispatchKey="d"
      />,
    );
    const lines = frame.split("\n");
    assert.match(lines[0] ?? "", /TASK\s+TARGET→NODE\s+STATE\s+PRI\s+AGE\s+TRY\s+DESCRIPTION/);
    assert.match(lines[1] ?? "", /^› e68aee2d\s+alpha\s+running\s+P2\s+4m 1\/3 测试 localhost 路由/);
    assert.match(lines[3] ?? "", /any→mac-mini\s+failed\s+P1/);
    assert.match(lines[4] ?? "", /^ \+req_20260227_195930/, "marked rows carry a +");
  });

  it("invites a first dispatch when there are no tasks at all", () => {
    const frame = frameOf(
      <TasksView
        rows={[]}
        table={EMPTY_CURSOR}
        marks={[]}
        filter=""
        totalTasks={0}
        width={80}
        height={5}
        now={FIXED_NOW}
        dispatchKey="d"
      />,
    );
    assert.match(frame, /No tasks yet\. Press d to dispatch one\./);
  });

  it("mounts only the visible window of a large table", () => {
    const tasks = Array.from({ length: 10_000 }, (_, i) =>
      makeTask({
        id: `req_20260101_000000_${i.toString(16).padStart(8, "0")}`,
        text: `task number ${i}`,
        createdAt: new Date(1e12 - i).toISOString(),
      }),
    );
    const rows = selectTaskRows(snapshotOf(undefined, tasks), "");
    const frame = frameOf(
      <TasksView
        rows={rows}
        table={{ cursor: 5000, offset: 4990, selectedId: null }}
        marks={[]}
        filter=""
        totalTasks={rows.length}
        width={100}
        height={21}
        now={FIXED_NOW}
        dispatchKey="d"
      />,
    );
    const lines = frame.split("\n");
    assert.equal(lines.length, 21, "header + 20 rows, not 10 000");
    assert.match(frame, /› 00001388 .*task number 5000/, "the short id at 100 columns");
  });
});

describe("TaskDetail", () => {
  it("shows request, routing and reason, attempts, history, reply, error with hint, and timings", () => {
    const failed = seedTasks()[2];
    const frame = frameOf(
      <TaskDetail
        task={failed}
        taskId={failed?.id ?? ""}
        scroll={0}
        follow={false}
        width={100}
        height={30}
        now={FIXED_NOW}
      />,
    );
    // The words, order and times of `tasks show` (one presentation: present/task-detail.ts).
    assert.match(
      frame,
      /Task\s+req_20260227_203300_0badc0de\s+State\s+failed\s+Priority\s+P1\s+Attempt\s+1 of 3/,
    );
    assert.match(frame, /Target\s+any → mac-mini via localhost\s+Reason\s+target named explicitly/);
    assert.match(frame, /Created\s+2026-02-27 20:33:00 UTC \(4m ago\)/);
    assert.match(frame, /Finished\s+2026-02-27 20:33:05 UTC \(3m ago\)/);
    assert.match(frame, /Request\n\s+Implement user authentication/);
    // The recorded event, then how the attempt ended (from its result).
    assert.match(
      frame,
      /History \(2 events, times in UTC\)\n\s+20:33:00\s+created\s+by test\n\s+20:33:05\s+failed/,
    );
    assert.match(frame, /Error\n\s+gateway: 401 bad token/);
    assert.match(frame, /\n\s+fix: Check the token with clawos nodes probe mac-mini/);
    const done = seedTasks()[3];
    const completed = frameOf(
      <TaskDetail
        task={done}
        taskId={done?.id ?? ""}
        scroll={0}
        follow={false}
        width={100}
        height={30}
        now={FIXED_NOW}
      />,
    );
    assert.match(completed, /Took\s+2\.1 s/);
    assert.match(completed, /Reply\n\s+def add\(a, b\):\n\s+return a \+ b/);
  });

  it("marks a reply that is still streaming, and waits politely for a task not yet in the snapshot", () => {
    const running = seedTasks()[1];
    const frame = frameOf(
      <TaskDetail task={running} taskId="x" scroll={0} follow width={100} height={30} now={FIXED_NOW} />,
    );
    assert.match(frame, /Reply \(streaming…\)\n\s+正在测试…/);
    const waiting = frameOf(
      <TaskDetail
        task={undefined}
        taskId="req_20260227_210000_aaaaaaaa"
        outcome={{ id: "req_20260227_210000_aaaaaaaa", decision: { node: null, reason: "no node online" } }}
        scroll={0}
        follow
        width={100}
        height={10}
        now={FIXED_NOW}
      />,
    );
    assert.match(waiting, /Waiting for the task to appear/);
    assert.match(waiting, /Not routed yet: no node online/);
  });

  it("follow shows the end of a long reply; scroll shows the top", () => {
    const task = makeTask({
      id: "req_1",
      state: "running",
      reply: Array.from({ length: 50 }, (_, i) => `reply line ${i}`).join("\n"),
    });
    const end = frameOf(
      <TaskDetail task={task} taskId="req_1" scroll={0} follow width={80} height={10} now={FIXED_NOW} />,
    );
    assert.match(end, /reply line 49/);
    assert.doesNotMatch(end, /Request/);
    const top = frameOf(
      <TaskDetail
        task={task}
        taskId="req_1"
        scroll={0}
        follow={false}
        width={80}
        height={10}
        now={FIXED_NOW}
      />,
    );
    assert.match(top, /^Task\s+req_1\nState\s+running/);
    assert.equal(top.split("\n").length, 10);
  });
});

describe("DispatchForm", () => {
  it("shows the text field, the target picker and the priority, with hints", () => {
    const form = { ...createForm(["alpha", "mac-mini"]), text: { text: "hello", caret: 5 } };
    const frame = frameOf(<DispatchForm form={form} width={80} />);
    assert.match(frame, /Dispatch a task/);
    assert.match(frame, /› Text\s+hello/);
    assert.match(frame, /Target\s+\[any\]\s+alpha\s+mac-mini/);
    assert.match(frame, /Priority\s+P0\s+P1\s+\[P2\]\s+P3/);
    assert.match(frame, /Enter send/);
  });

  it("warns when the chosen node cannot take the task now, and not for an online one or any", () => {
    const form = { ...createForm(["alpha", "mac-mini"]), target: "alpha" };
    const down = makeNode({ id: "alpha", status: "unreachable", reason: "gateway not reachable" });
    const warned = frameOf(<DispatchForm form={form} width={80} targetNode={down} />);
    assert.match(warned, /alpha is unreachable: the task waits in its inbox \(gateway/);
    const up = frameOf(<DispatchForm form={form} width={80} targetNode={makeNode({ id: "alpha" })} />);
    assert.doesNotMatch(up, /waits/);
  });

  it("shows validation inline", () => {
    const form = { ...createForm([]), error: "Write what the task should do: the text is empty." };
    assert.match(frameOf(<DispatchForm form={form} width={80} />), /text is empty/);
  });
});

describe("HelpOverlay", () => {
  it("is generated from the keymap, rebinding included", () => {
    const frame = frameOf(
      <HelpOverlay
        keymap={resolveKeymap({ dispatch: "n" })}
        readonly={false}
        scroll={0}
        width={100}
        height={30}
      />,
    );
    assert.match(frame, /n\s+Dispatch a new task/);
    assert.match(frame, /j ↓\s+Move down/);
    assert.match(frame, /q Ctrl\+C\s+Quit/);
    assert.doesNotMatch(frame, /\bd\s+Dispatch/);
  });

  it("hides actions a read-only session cannot take", () => {
    const frame = frameOf(
      <HelpOverlay keymap={resolveKeymap()} readonly scroll={0} width={100} height={30} />,
    );
    assert.match(frame, /read-only session/i);
    assert.doesNotMatch(frame, /Dispatch a new task/);
    assert.doesNotMatch(frame, /Mark for bulk/, "marks only serve retry and cancel");
    assert.doesNotMatch(frame, /:dispatch|:init|:incubate/, "no mutating palette commands");
    assert.doesNotMatch(frame, /Change target/, "no dispatch form in a read-only session");
    assert.doesNotMatch(frame, /Cancel task/);
    assert.match(frame, /Quit/);
  });

  it("fits an 80×24 screen in two columns", () => {
    const frame = frameOf(
      <HelpOverlay keymap={resolveKeymap()} readonly={false} scroll={0} width={80} height={21} />,
    );
    for (const word of ["Move up", "Dispatch a new task", "Quit", "Discover local profiles", "Filter rows"]) {
      assert.ok(frame.includes(word), word);
    }
    for (const line of frame.split("\n")) assert.ok(displayWidth(line) <= 80, line);
  });
});

describe("FirstRunPanel", () => {
  it("explains how to add a node and offers discovery on a key", () => {
    const frame = frameOf(
      <FirstRunPanel discovery={{ status: "idle", found: [] }} discoverKey="i" readonly={false} width={80} />,
    );
    assert.match(frame, /no nodes yet/);
    assert.match(frame, /clawos init/);
    assert.match(frame, /clawos nodes add/);
    assert.match(frame, /Press i to look for local OpenClaw profiles/);
  });

  it("shows what discovery found, or that it found nothing", () => {
    const found = frameOf(
      <FirstRunPanel
        discovery={{ status: "done", found: ["main", "alpha"] }}
        discoverKey="i"
        readonly={false}
        width={80}
      />,
    );
    assert.match(found, /Found and added: main, alpha/);
    const none = frameOf(
      <FirstRunPanel discovery={{ status: "done", found: [] }} discoverKey="i" readonly={false} width={80} />,
    );
    assert.match(none, /Nothing found here/);
    const ro = frameOf(
      <FirstRunPanel discovery={{ status: "idle", found: [] }} discoverKey="i" readonly width={80} />,
    );
    assert.match(ro, /read-only/);
    assert.doesNotMatch(ro, /Press i/);
  });
});

describe("status bar", () => {
  it("shows counts, freshness and the blackboard location", () => {
    const frame = frameOf(<SummaryLine snapshot={snapshotOf()} now={FIXED_NOW + 3000} width={100} />);
    assert.match(
      frame,
      /1 pending · 1 running · 1 completed · 1 failed · updated 3s ago · board ~\/\.openclaw\/c\S*…\S*blackboard$/,
    );
    // A long path is cut in its middle: its start (which home) and its end (which board) both stay.
    const far = {
      ...snapshotOf(),
      blackboardLocation: "~/Sync/shared-folder/teams/clawos-blackboard/federation",
    };
    const cut = frameOf(<SummaryLine snapshot={far} now={FIXED_NOW + 3000} width={100} />);
    assert.match(cut, /board ~\/Sync\/shared\S*…\S*\/federation$/);
    assert.ok(displayWidth(cut) <= 100, cut);
    const troubled = { ...snapshotOf(), problems: ["moved aside: bad.json", "moved aside: worse.json"] };
    assert.match(
      frameOf(<SummaryLine snapshot={troubled} now={FIXED_NOW} width={100} />),
      /1 failed · 2 problems · updated/,
    );
  });

  it("shows a message or the latest error over the summary, and the key hints stay on their line", () => {
    const km = resolveKeymap();
    const base = { input: null, confirm: null, message: null, keymap: km, readonly: false, width: 80 };
    const lines = { snapshot: snapshotOf(), now: FIXED_NOW, width: 80 };
    assert.match(
      frameOf(<MessageLine {...lines} message={null} lastError="node alpha: 401 bad token" />),
      /! node alpha: 401 bad token/,
    );
    assert.match(
      frameOf(<MessageLine {...lines} message={{ text: "Retrying req_1…", tone: "info" }} lastError="x" />),
      /Retrying req_1…/,
    );
    assert.match(frameOf(<MessageLine {...lines} message={null} lastError={undefined} />), /1 pending/);
    const hints = frameOf(<BottomLine {...base} lastError="node alpha: 401 bad token" />);
    assert.match(hints, /\? help\s+Enter its tasks\s+Tab to tasks\s+\/ filter\s+: command\s+d dispatch/);
    assert.doesNotMatch(frameOf(<BottomLine {...base} readonly lastError={undefined} />), /dispatch/);
    const asking = frameOf(
      <BottomLine
        {...base}
        lastError="x"
        confirm={{ prompt: "Cancel req_1?", effects: [], yes: "", no: "", clearMarks: false }}
      />,
    );
    assert.match(asking, /Cancel req_1\? y\/n/);
  });

  it("shows the filter being typed, with its problems, and palette suggestions", () => {
    const km = resolveKeymap();
    const base = {
      confirm: null,
      message: null,
      keymap: km,
      readonly: false,
      width: 80,
      lastError: undefined,
    };
    const filter = frameOf(
      <BottomLine
        {...base}
        input={{ kind: "filter", field: { text: "colour:red", caret: 10 }, before: "", table: "tasks" }}
      />,
    );
    assert.match(filter, /\/colour:red\s+unknown field 'colour:'/);
    const palette = frameOf(
      <BottomLine {...base} input={{ kind: "palette", field: { text: "in", caret: 2 } }} />,
    );
    assert.match(palette, /:in\s+incubate init/);
  });
});

describe("ControlCenter at 80×24", () => {
  it("fills exactly 24 rows of at most 80 columns, on every screen", () => {
    const screens = [
      stateOf({ size: SIZE_80x24 }),
      press(stateOf({ size: SIZE_80x24 }), "tab"),
      press(stateOf({ size: SIZE_80x24 }), "tab", "enter"),
      type(press(stateOf({ size: SIZE_80x24 }), "d"), "hello"),
      press(stateOf({ size: SIZE_80x24 }), "?"),
      stateOf({ size: SIZE_80x24, snapshot: snapshotOf([], []) }),
    ];
    for (const state of screens) {
      const frame = frameOf(<ControlCenter state={state} now={FIXED_NOW} />);
      const lines = frame.split("\n");
      assert.equal(lines.length, 24, frame);
      for (const line of lines) assert.ok(displayWidth(line) <= 80, `too wide: ${line}`);
      assert.match(lines[0] ?? "", /ClawOS Federation/);
    }
  });

  it("the tasks table keeps id, state and description at 80 columns", () => {
    const frame = frameOf(
      <ControlCenter state={press(stateOf({ size: SIZE_80x24 }), "tab")} now={FIXED_NOW} />,
    );
    assert.match(frame, /› e68aee2d .*running .*测试/, "a short id at 80 columns");
  });

  it("shows the read-only badge", () => {
    const frame = frameOf(
      <ControlCenter state={stateOf({ size: SIZE_80x24, readonly: true })} now={FIXED_NOW} />,
    );
    assert.match(frame.split("\n")[0] ?? "", /READ-ONLY/);
  });
});
