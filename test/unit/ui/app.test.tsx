import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { cleanup } from "ink-testing-library";
import type { FederationApi } from "../../../source/core/domain/federation-types.js";
import { FakeFederation, FIXED_NOW, makeNode, seedNodes, seedTasks } from "../../testkit/fake-federation.js";
import { ESC_KEYS, renderApp, waitUntil } from "./helpers.js";

afterEach(() => cleanup());

describe("App over a fake federation", () => {
  it("shows the nodes and follows live snapshots", async () => {
    const app = await renderApp();
    await app.waitFor("macbook-air");
    app.fake.emit((s) => ({ nodes: [...s.nodes, makeNode({ id: "vps-1", notes: "new box" })] }));
    await app.waitFor("vps-1");
    assert.match(app.frame(), /Nodes 5/);
  });

  it("coalesces a burst of snapshots into a handful of renders", async () => {
    const app = await renderApp();
    await app.waitFor("macbook-air");
    const frames = app.frames();
    for (let i = 0; i < 200; i++) app.fake.emit({ lastError: `burst ${i}` });
    await app.waitFor("burst 199");
    assert.ok(app.frames() - frames < 20, `rendered ${app.frames() - frames} times for 200 snapshots`);
  });

  it("handles a batch of keys in one chunk key by key (as over SSH)", async () => {
    const app = await renderApp();
    await app.write("jjj");
    await app.waitFor(/› macbook-air/);
    await app.write(`\t/state:failed${ESC_KEYS.enter}`);
    // The reply pane beside the tasks leaves their table under 120 columns: short ids.
    await app.waitFor((f) => /› 0badc0de/.test(f) && !f.includes("195930"));
    assert.match(app.frame(), /\/state:failed/);
  });

  it("drills from a node to its tasks, into a task, and back with Esc", async () => {
    const app = await renderApp();
    await app.write("j");
    await app.write("j");
    await app.write("j");
    await app.write(ESC_KEYS.enter);
    await app.waitFor(/\/node:macbook-air/);
    await app.write(ESC_KEYS.enter);
    await app.waitFor(/Request\n\s+开发 babel chrome 插件 v2/);
    await app.write(ESC_KEYS.escape);
    await app.waitFor(/TARGET→NODE/);
    await app.write(ESC_KEYS.escape);
    await app.waitFor(/NODE\s+STATUS/);
  });

  it("dispatches from the form and shows the reply streaming into the detail view", async () => {
    const app = await renderApp();
    await app.write("d");
    await app.waitFor("Dispatch a task");
    await app.write(ESC_KEYS.enter);
    await app.waitFor("text is empty");
    assert.equal(app.fake.calls.dispatch.length, 0, "nothing sent while invalid");
    await app.write("写一首诗");
    await app.write(`${ESC_KEYS.tab}${ESC_KEYS.tab}1${ESC_KEYS.enter}`);
    await app.waitFor("Reply (waiting for the node…)");
    assert.deepEqual(app.fake.calls.dispatch, [{ text: "写一首诗", to: "alpha", priority: "P1" }]);
    const id = app.fake.getSnapshot().tasks.at(-1)?.id ?? "";
    app.fake.appendReply(id, "床前明月光，");
    await app.waitFor(/Reply \(streaming…\)\n\s+床前明月光，/);
    app.fake.appendReply(id, "疑是地上霜。");
    await app.waitFor("床前明月光，疑是地上霜。");
    app.fake.updateTask(id, { state: "completed", durationMs: 900 });
    await app.waitFor(/Reply\n\s+床前明月光/);
    assert.match(app.frame(), /Took\s+900 ms/);
  });

  it("shows a dispatch failure inside the form", async () => {
    const app = await renderApp({
      fakeOptions: { dispatchError: new Error("no route: every node is down") },
    });
    await app.write("dhello");
    await app.write(ESC_KEYS.enter);
    await app.waitFor("Not sent: no route: every node is down");
  });

  it("asks before cancelling, and only cancels on y", async () => {
    const app = await renderApp();
    await app.write("\tx");
    await app.waitFor(/Cancel req_20260227_203220_e68aee2d \(running on alpha\)\? y\/n/);
    await app.write("n");
    await app.waitFor("Nothing cancelled.");
    assert.deepEqual(app.fake.calls.cancel, []);
    await app.write("x");
    await app.waitFor("y/n");
    await app.write("y");
    await app.waitFor("Asked to cancel req_20260227_203220_e68aee2d.");
    assert.deepEqual(app.fake.calls.cancel, ["req_20260227_203220_e68aee2d"]);
    await app.waitFor(/e68aee2d\s+alpha\s+cancelled/);
  });

  it("retries a failed task, and marked tasks only after a yes", async () => {
    const app = await renderApp();
    await app.write("\tjjr");
    await app.waitFor("Asked to retry req_20260227_203300_0badc0de.");
    assert.deepEqual(app.fake.calls.retry, ["req_20260227_203300_0badc0de"]);
    app.fake.updateTask("req_20260227_195930", { state: "cancelled" });
    await app.waitFor(/req_20260227_195930\s+mac-mini\s+cancelled/);
    await app.write("g    r");
    await app.waitFor("Retry 1 marked task (3 still active or done, skipped)? y/n");
    assert.equal(app.fake.calls.retry.length, 1, "nothing retried before the answer");
    await app.write("y");
    await app.waitFor("Asked to retry req_20260227_195930.");
    assert.deepEqual(app.fake.calls.retry, ["req_20260227_203300_0badc0de", "req_20260227_195930"]);
  });

  it("read-only refuses d, r and x with a message and hides them from the hints", async () => {
    const app = await renderApp({ readonly: true });
    await app.waitFor("READ-ONLY");
    assert.doesNotMatch(app.frame(), /d dispatch/);
    await app.write("d");
    await app.waitFor("Read-only session: dispatching is turned off.");
    await app.write("\tx");
    await app.waitFor("Read-only session: cancelling is turned off.");
    await app.write("r");
    await app.waitFor("Read-only session: retrying is turned off.");
    assert.deepEqual(app.fake.calls, {
      dispatch: [],
      retry: [],
      cancel: [],
      refresh: 0,
      discover: 0,
      close: 0,
    });
  });

  it("help comes from the keymap and follows a rebinding", async () => {
    const app = await renderApp({ keys: { help: "h", dispatch: ["n"] } });
    await app.write("?");
    await app.write("h");
    await app.waitFor("Show / hide this help");
    const frame = app.frame();
    assert.match(frame, /h\s+Show \/ hide this help/);
    assert.match(frame, /n\s+Dispatch a new task/);
    await app.write("h");
    await app.waitFor(/NODE\s+STATUS/);
    await app.write("n");
    await app.waitFor("Dispatch a task");
  });

  it("the command palette switches views and refreshes", async () => {
    const app = await renderApp();
    await app.write(":tasks state:pending\r");
    await app.waitFor((f) => f.includes("/state:pending") && f.includes("req_20260227_200645"));
    await app.write(":ref\r");
    await app.waitFor("Refreshed.");
    assert.equal(app.fake.calls.refresh, 1);
    await app.write(":incubate\r");
    await app.waitFor("Usage: :incubate NAME");
    await app.write(":incubate beta\r");
    await app.waitFor("Incubation is not available here.");
  });

  it(":incubate shows each step and the result when the facade can incubate", async () => {
    const app = await renderApp();
    const steps: string[] = [];
    (app.fake as unknown as { incubate: FederationApi["incubate"] }).incubate = async (input, onStep) => {
      steps.push(input.name);
      onStep({ step: 1, total: 2, title: "Check the name and pick a port", status: "running" });
      await new Promise((r) => setTimeout(r, 50));
      onStep({ step: 2, total: 2, title: "Register the node", status: "running" });
      return { node: input.name, port: 18829 };
    };
    await app.write(":incubate gamma --config-only\r");
    await app.waitFor("Node gamma is set up on 127.0.0.1:18829; its gateway is not running yet.");
    assert.deepEqual(steps, ["gamma"]);
  });

  it("first run: explains how to add a node, discovers on i and shows the result", async () => {
    const fake = new FakeFederation({
      nodes: [],
      tasks: [],
      now: () => FIXED_NOW,
      discoverFinds: ["main", "alpha"],
    });
    const app = await renderApp({ fake });
    await app.waitFor("no nodes yet");
    assert.match(app.frame(), /clawos init/);
    await app.write("i");
    await app.waitFor("Discovered and added: main, alpha");
    assert.equal(fake.calls.discover, 1);
    await app.waitFor(/Nodes 2/);
  });

  it("quits on q and lets go of the federation", async () => {
    const fake = new FakeFederation({ nodes: seedNodes(), tasks: seedTasks(), now: () => FIXED_NOW });
    const app = await renderApp({ fake });
    assert.equal(fake.listenerCount, 1);
    await app.write("q");
    await waitUntil(
      () => fake.listenerCount === 0,
      () => "still subscribed",
    );
  });
});
