import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { homeLayout } from "../../../source/ui/layout.js";
import { appReducer } from "../../../source/ui/state/app-reducer.js";
import { topScreen } from "../../../source/ui/state/app-state.js";
import { selectTaskRows } from "../../../source/ui/state/rows.js";
import { makeTask, seedTasks } from "../../testkit/fake-federation.js";
import { press, SIZE_80x24, snapshotOf, stateOf, type } from "./helpers.js";

describe("app reducer: views and navigation", () => {
  it("starts on the nodes table; Tab switches panes; j/k and G/g move the cursor", () => {
    let s = stateOf();
    assert.equal(topScreen(s).kind, "nodes");
    s = press(s, "j", "j");
    assert.equal(s.nodes.selectedId, "mac-mini");
    s = press(s, "G");
    assert.equal(s.nodes.selectedId, "macbook-air");
    s = press(s, "g");
    assert.equal(s.nodes.selectedId, "alpha");
    s = press(s, "tab");
    assert.equal(topScreen(s).kind, "tasks");
    s = press(s, "down");
    assert.equal(s.tasks.cursor, 1);
    s = press(s, "tab");
    assert.ok(s.reply, "120×40 has a reply pane: it is next");
    s = press(s, "tab");
    assert.equal(topScreen(s).kind, "nodes");
    assert.equal(s.nodes.selectedId, "alpha", "each table keeps its own cursor");
  });

  it("sorts tasks: active first, then newest", () => {
    const rows = selectTaskRows(snapshotOf(), "").map((t) => `${t.state}`);
    assert.deepEqual(rows, ["running", "pending", "failed", "completed"]);
  });

  it("Enter on a node drills into its tasks; Esc comes back and restores the filter", () => {
    let s = press(stateOf(), "enter");
    assert.equal(topScreen(s).kind, "tasks");
    assert.equal(s.tasks.filter, "node:alpha");
    s = press(s, "escape");
    assert.equal(topScreen(s).kind, "nodes");
    assert.equal(s.tasks.filter, "");
  });

  it("Enter on a task opens its detail; Esc goes back", () => {
    let s = press(stateOf(), "tab", "j", "enter");
    const top = topScreen(s);
    assert.equal(top.kind, "detail");
    assert.equal(top.kind === "detail" && top.taskId, "req_20260227_200645");
    s = press(s, "escape");
    assert.equal(topScreen(s).kind, "tasks");
  });

  it("PgDn / PgUp move by a page of the current size", () => {
    const tasks = Array.from({ length: 200 }, (_, i) =>
      makeTask({
        id: `req_20260101_000000_${i.toString(16).padStart(8, "0")}`,
        createdAt: new Date(1e12 + i * 1000).toISOString(),
      }),
    );
    let s = press(stateOf({ snapshot: snapshotOf(undefined, tasks), size: SIZE_80x24 }), "tab", "pagedown");
    // The tasks pane under the four nodes and the selected node's description.
    const page = homeLayout(SIZE_80x24, 4).taskRows;
    assert.equal(s.tasks.cursor, page - 1);
    s = press(s, "pagedown");
    assert.ok(
      s.tasks.cursor >= s.tasks.offset && s.tasks.cursor < s.tasks.offset + page,
      "cursor stays on screen",
    );
    s = press(s, "G");
    assert.equal(s.tasks.cursor, 199);
    assert.equal(s.tasks.offset, 200 - page);
  });

  it("keeps the selected task selected when new tasks arrive above it", () => {
    let s = press(stateOf(), "tab", "j");
    assert.equal(s.tasks.selectedId, "req_20260227_200645");
    const newer = makeTask({ id: "req_20260227_210000", createdAt: "2026-02-27T21:00:00Z" });
    s = appReducer(s, { type: "snapshot", snapshot: snapshotOf(undefined, [...seedTasks(), newer]) });
    assert.equal(s.tasks.selectedId, "req_20260227_200645");
    assert.equal(s.tasks.cursor, 2);
  });

  it("resizing keeps the cursor inside the smaller window", () => {
    const tasks = Array.from({ length: 100 }, (_, i) =>
      makeTask({
        id: `req_20260101_000000_${i.toString(16).padStart(8, "0")}`,
        createdAt: new Date(1e12 - i * 1000).toISOString(),
      }),
    );
    let s = press(stateOf({ snapshot: snapshotOf(undefined, tasks) }), "tab");
    for (let i = 0; i < 30; i++) s = press(s, "j");
    s = appReducer(s, { type: "resize", size: SIZE_80x24 });
    assert.equal(s.tasks.cursor, 30);
    assert.ok(s.tasks.cursor < s.tasks.offset + 20 && s.tasks.cursor >= s.tasks.offset);
  });
});

describe("app reducer: filter", () => {
  it("/ opens the filter, typing applies it live, Enter keeps it, Esc in the table clears it", () => {
    let s = press(stateOf(), "tab", "/");
    assert.equal(s.input?.kind, "filter");
    s = type(s, "state:fail");
    assert.equal(s.tasks.filter, "state:fail");
    assert.deepEqual(
      selectTaskRows(s.snapshot, s.tasks.filter).map((t) => t.id),
      ["req_20260227_203300_0badc0de"],
    );
    assert.equal(s.tasks.selectedId, "req_20260227_203300_0badc0de", "cursor follows the filtered rows");
    s = press(s, "enter");
    assert.equal(s.input, null);
    assert.equal(s.tasks.filter, "state:fail");
    s = press(s, "escape");
    assert.equal(s.tasks.filter, "");
  });

  it("Esc while typing restores the filter from before", () => {
    let s = press(stateOf(), "tab", "/");
    s = type(s, "node:alpha");
    s = press(s, "enter", "/", "backspace", "backspace", "escape");
    assert.equal(s.tasks.filter, "node:alpha");
  });

  it("the filter applies to the active table (nodes here)", () => {
    let s = press(stateOf(), "/");
    s = type(s, "state:online");
    s = press(s, "enter");
    assert.equal(s.nodes.filter, "state:online");
    assert.equal(s.tasks.filter, "");
  });

  it("reports an unknown field when the filter is applied", () => {
    let s = press(stateOf(), "tab", "/");
    s = type(s, "colour:red");
    s = press(s, "enter");
    assert.match(s.message?.text ?? "", /unknown field 'colour:'/);
  });

  it("keys typed into the filter are text, not commands", () => {
    let s = press(stateOf(), "tab", "/");
    s = type(s, "qdx");
    assert.equal(s.quit, false);
    assert.equal(s.tasks.filter, "qdx");
    assert.equal(s.effects.length, 0);
  });
});

describe("app reducer: palette", () => {
  it(": runs commands: tasks with a filter, nodes, quit", () => {
    let s = press(stateOf(), ":");
    s = type(s, "tasks state:pending");
    s = press(s, "enter");
    assert.equal(topScreen(s).kind, "tasks");
    assert.equal(s.tasks.filter, "state:pending");
    s = press(s, ":");
    s = type(s, "nodes");
    s = press(s, "enter");
    assert.equal(topScreen(s).kind, "nodes");
    s = press(s, ":");
    s = type(s, "quit");
    s = press(s, "enter");
    assert.equal(s.quit, true);
  });

  it(":dispatch opens the form prefilled, :incubate checks its arguments and queues the work, :refresh and :init queue effects", () => {
    let s = press(stateOf(), ":");
    s = type(s, "dispatch write a haiku");
    s = press(s, "enter");
    assert.equal(topScreen(s).kind, "dispatch");
    assert.equal(s.form?.text.text, "write a haiku");
    s = press(s, "escape", ":");
    s = type(s, "incubate");
    s = press(s, "enter");
    assert.match(s.message?.text ?? "", /Usage: :incubate NAME/);
    s = press(s, ":");
    s = type(s, "incubate beta --start");
    s = press(s, "enter");
    assert.match(s.message?.text ?? "", /Incubating beta/);
    assert.deepEqual(
      s.effects.filter((e) => e.type === "incubate"),
      [{ type: "incubate", name: "beta", start: true, configOnly: false }],
    );
    s = appReducer(s, { type: "effectsTaken" });
    s = press(s, ":");
    s = type(s, "refresh");
    s = press(s, "enter", ":");
    s = type(s, "init");
    s = press(s, "enter");
    assert.deepEqual(
      s.effects.map((e) => e.type),
      ["refresh", "discover"],
    );
  });

  it("Tab completes; unknown commands are explained; Esc closes", () => {
    let s = press(stateOf(), ":");
    s = type(s, "disp");
    s = press(s, "tab");
    assert.equal(s.input?.kind === "palette" && s.input.field.text, "dispatch ");
    s = press(s, "escape");
    assert.equal(s.input, null);
    s = press(s, ":");
    s = type(s, "warp");
    s = press(s, "enter");
    assert.match(s.message?.text ?? "", /Unknown command ':warp'/);
    assert.equal(s.message?.tone, "error");
  });
});

describe("app reducer: actions", () => {
  it("x asks before cancelling; n keeps the task; y queues the cancel", () => {
    const s = press(stateOf(), "tab", "x");
    assert.match(s.confirm?.prompt ?? "", /Cancel req_20260227_203220_e68aee2d/);
    assert.equal(s.effects.length, 0, "nothing happens before the answer");
    const no = press(s, "n");
    assert.equal(no.confirm, null);
    assert.equal(no.effects.length, 0);
    assert.match(no.message?.text ?? "", /Nothing cancelled/);
    const yes = press(s, "y");
    assert.deepEqual(yes.effects, [{ type: "cancel", ids: ["req_20260227_203220_e68aee2d"] }]);
  });

  it("any other key than y declines, even one bound to an action", () => {
    const s = press(stateOf(), "tab", "x", "q");
    assert.equal(s.quit, false);
    assert.equal(s.confirm, null);
    assert.equal(s.effects.length, 0);
  });

  it("cancelling a finished task is refused with a reason", () => {
    const s = press(stateOf(), "tab", "G", "x");
    assert.equal(s.confirm, null);
    assert.match(s.message?.text ?? "", /already finished \(completed\)/);
  });

  it("r retries a failed task at once, refuses a running one", () => {
    const failed = press(stateOf(), "tab", "j", "j", "r");
    assert.deepEqual(failed.effects, [{ type: "retry", ids: ["req_20260227_203300_0badc0de"] }]);
    const running = press(stateOf(), "tab", "r");
    assert.equal(running.effects.length, 0);
    assert.match(running.message?.text ?? "", /only failed or cancelled/);
  });

  it("every key acts on the pane that has the keys: in the reply pane Space marks nothing, r retries the task shown", () => {
    let s = press(stateOf(), "tab", "space");
    assert.deepEqual(s.tasks.marks, ["req_20260227_203220_e68aee2d"], "the running task is marked");
    s = press(s, "j");
    const failed = s.tasks.selectedId;
    assert.equal(s.snapshot.tasks.find((t) => t.id === failed)?.state, "failed");
    s = press(s, "tab");
    assert.ok(s.reply, "the reply pane has the keys");
    const inReply = press(s, "space");
    assert.deepEqual(inReply.tasks.marks, s.tasks.marks, "no mark from the reply pane");
    assert.equal(inReply.tasks.selectedId, failed, "nor does the selection move");
    assert.match(inReply.message?.text ?? "", /Space works in the Tasks table; Esc goes back to the tasks/);
    assert.match(press(s, "/").message?.text ?? "", /\/ works in the Nodes table or the Tasks table/);
    assert.equal(press(s, "/").input, null, "no filter opens from the reply pane");
    const retried = press(s, "r");
    assert.equal(retried.confirm, null, "not the bulk retry of the marks behind");
    assert.deepEqual(retried.effects, [{ type: "retry", ids: [failed] }]);
    const nodes = press(stateOf(), "space");
    assert.deepEqual(nodes.tasks.marks, []);
    assert.match(nodes.message?.text ?? "", /Space works in the Tasks table; Tab moves the keys there/);
  });

  it("bulk retry and bulk cancel over marked tasks ask first", () => {
    let s = press(stateOf(), "tab", "space", "space", "space");
    assert.equal(s.tasks.marks.length, 3);
    const retry = press(s, "r");
    assert.match(retry.confirm?.prompt ?? "", /Retry 1 marked task \(2 still active or done, skipped\)/);
    assert.equal(retry.effects.length, 0);
    const retried = press(retry, "y");
    assert.deepEqual(retried.effects, [{ type: "retry", ids: ["req_20260227_203300_0badc0de"] }]);
    assert.deepEqual(retried.tasks.marks, []);
    s = press(s, "x");
    assert.match(s.confirm?.prompt ?? "", /Cancel 2 marked tasks/);
    s = press(s, "y");
    assert.deepEqual(s.effects, [
      { type: "cancel", ids: ["req_20260227_203220_e68aee2d", "req_20260227_200645"] },
    ]);
  });

  it("read-only refuses d, r, x and discovery with a message", () => {
    for (const key of ["d", "r", "x", "i"]) {
      const s = press(stateOf({ readonly: true }), "tab", key);
      assert.equal(s.effects.length, 0, key);
      assert.equal(s.confirm, null, key);
      assert.equal(topScreen(s).kind, "tasks", key);
      assert.match(s.message?.text ?? "", /Read-only session/, key);
    }
    let s = press(stateOf({ readonly: true }), ":");
    s = type(s, "dispatch hi");
    s = press(s, "enter");
    assert.equal(topScreen(s).kind, "nodes");
    assert.match(s.message?.text ?? "", /Read-only/);
  });

  it("R refreshes; q quits; Ctrl+C quits from inside a text field too", () => {
    assert.deepEqual(press(stateOf(), "R").effects, [{ type: "refresh" }]);
    assert.equal(press(stateOf(), "q").quit, true);
    assert.equal(press(stateOf(), "/", "ctrl+c").quit, true);
    assert.equal(press(stateOf(), "d", "ctrl+c").quit, true);
  });

  it("rebinding works: the new key acts, the old one does nothing", () => {
    const s = stateOf({ keys: { quit: "Q", down: ["n"] } });
    assert.equal(press(s, "q").quit, false);
    assert.equal(press(s, "Q").quit, true);
    assert.equal(press(s, "n").nodes.selectedId, "cloud-node");
    assert.equal(press(s, "j").nodes.cursor, 0);
  });

  it("? opens help and ? or Esc closes it; keys in help do not act", () => {
    let s = press(stateOf(), "?");
    assert.ok(s.help);
    s = press(s, "d");
    assert.equal(topScreen(s).kind, "nodes");
    s = press(s, "escape");
    assert.equal(s.help, null);
    assert.equal(press(stateOf(), "?", "?").help, null);
  });
});

describe("app reducer: dispatch", () => {
  it("d opens the form targeting the selected node; Enter with empty text shows an inline error", () => {
    let s = press(stateOf(), "j", "d");
    assert.equal(topScreen(s).kind, "dispatch");
    assert.equal(s.form?.target, "cloud-node");
    s = press(s, "enter");
    assert.match(s.form?.error ?? "", /text is empty/);
    assert.equal(s.effects.length, 0);
  });

  it("submitting queues api.dispatch; the outcome opens that task's detail", () => {
    let s = press(stateOf(), "tab", "d");
    assert.equal(s.form?.target, "any");
    s = type(s, "总结今天的日志");
    s = press(s, "tab", "tab", "0", "enter");
    assert.deepEqual(s.effects, [
      { type: "dispatch", input: { text: "总结今天的日志", to: "any", priority: "P0" } },
    ]);
    s = appReducer(s, { type: "effectsTaken" });
    s = appReducer(s, {
      type: "dispatched",
      outcome: {
        id: "req_20260227_210000_aaaaaaaa",
        decision: { node: "alpha", transport: "localhost", reason: "lowest latency", decidedAt: "x" },
      },
    });
    const top = topScreen(s);
    assert.equal(top.kind, "detail");
    assert.equal(top.kind === "detail" && top.taskId, "req_20260227_210000_aaaaaaaa");
    assert.equal(s.form, null);
    assert.match(s.message?.text ?? "", /→ alpha: lowest latency/);
    s = press(s, "escape");
    assert.equal(topScreen(s).kind, "tasks", "back to where the form was opened");
  });

  it("a failed dispatch keeps the form with the error", () => {
    let s = press(stateOf(), "d");
    s = type(s, "hello");
    s = press(s, "enter");
    s = appReducer(s, { type: "dispatchFailed", error: "node alpha is unreachable" });
    assert.equal(topScreen(s).kind, "dispatch");
    assert.equal(s.form?.submitting, false);
    assert.match(s.form?.error ?? "", /unreachable/);
  });
});

describe("app reducer: detail scrolling and discovery", () => {
  it("follows the end of a growing reply until the user scrolls up", () => {
    const long = makeTask({ id: "req_20260227_220000", state: "running", reply: "line\n".repeat(100) });
    let s = stateOf({ snapshot: snapshotOf(undefined, [long]), size: SIZE_80x24 });
    s = press(s, "tab", "enter");
    assert.equal(s.detail.follow, true);
    s = press(s, "k");
    assert.equal(s.detail.follow, false);
    const at = s.detail.scroll;
    s = press(s, "k", "k");
    assert.equal(s.detail.scroll, at - 2);
    s = press(s, "G");
    assert.equal(s.detail.follow, true);
    s = press(s, "g");
    assert.equal(s.detail.scroll, 0);
  });

  it("a finished task opens at its top; G still jumps to the reply's end", () => {
    const done = makeTask({ id: "req_20260227_220100", state: "completed", reply: "line\n".repeat(100) });
    let s = stateOf({ snapshot: snapshotOf(undefined, [done]), size: SIZE_80x24 });
    s = press(s, "tab", "enter");
    assert.equal(topScreen(s).kind, "detail");
    assert.deepEqual(s.detail, { scroll: 0, follow: false });
    s = press(s, "G");
    assert.equal(s.detail.follow, true);
  });

  it("discovery: i queues it, results land in the message and the panel state", () => {
    let s = stateOf({ snapshot: snapshotOf([], []) });
    s = press(s, "i");
    assert.deepEqual(s.effects, [{ type: "discover" }]);
    assert.equal(s.discovery.status, "running");
    s = appReducer(s, { type: "discovered", ids: ["main", "alpha"] });
    assert.deepEqual(s.discovery, { status: "done", found: ["main", "alpha"] });
    assert.match(s.message?.text ?? "", /main, alpha/);
    s = appReducer(s, { type: "discoverFailed", error: "permission denied" });
    assert.equal(s.discovery.status, "failed");
  });

  it("keymap warnings show up as the first message", () => {
    const s = stateOf({ keys: { fly: "f" } });
    assert.match(s.message?.text ?? "", /unknown action 'fly'/);
  });
});
