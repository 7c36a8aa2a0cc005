import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

describe("localhost nodes through the real CLI", () => {
  let world: World;
  let main: StubGateway;
  let alpha: StubGateway;

  before(async () => {
    world = await makeWorld();
    main = await startStubGateway({ token: "main-secret", reply: (p) => `main says: ${p}`, deltas: 5 });
    alpha = await startStubGateway({ token: "alpha-secret", reply: (p) => `alpha says: ${p}`, deltas: 5 });
    await world.writeProfile(null, profileConfig(main.port, "main-secret"));
    await world.writeProfile("alpha", profileConfig(alpha.port, "alpha-secret"));
  });
  after(async () => {
    await main.close();
    await alpha.close();
    await world.cleanup();
  });

  test("init discovers ~/.openclaw as hub (the machine's name) and ~/.openclaw-alpha as alpha", async () => {
    const r = await world.run(["init"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /registered as node hub on port \d+/);
    assert.match(r.stdout, /registered as node alpha on port \d+/);
    const again = await world.run(["init"]);
    assert.match(again.stdout, /already registered/);
    const list = await world.run(["nodes", "list", "--json"]);
    const nodes = JSON.parse(list.stdout) as { id: string; status: string; transport: string }[];
    assert.deepEqual(nodes.map((n) => [n.id, n.status, n.transport]).sort(), [
      ["alpha", "online", "localhost"],
      ["hub", "online", "localhost"],
    ]);
  });

  test("dispatch --to alpha --wait streams the gateway's answer to stdout", async () => {
    const r = await world.run(["dispatch", "写一首诗 about routing", "--to", "alpha", "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "alpha says: 写一首诗 about routing");
    const id = /(req_\d{8}_\d{6}_[0-9a-f]{8})/.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    const chat = alpha.requests.filter((q) => q.path === "/v1/chat/completions");
    assert.equal(chat.at(-1)?.user, `clawos:${id}`, "a stable session user per task");
    assert.equal(chat.at(-1)?.model, "openclaw/main");
    assert.equal(chat.at(-1)?.stream, true);
    const show = await world.run(["tasks", "show", id.slice(-8), "--json"]);
    assert.equal(show.code, 0, show.stderr);
    const task = JSON.parse(show.stdout) as { state: string; reply: string; route: { transport: string } };
    assert.equal(task.state, "completed");
    assert.equal(task.reply, "alpha says: 写一首诗 about routing");
    assert.equal(task.route.transport, "localhost");
  });

  test("dispatch --to any picks an online node and says why", async () => {
    const r = await world.run(["dispatch", "anyone there?", "--to", "any", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const task = JSON.parse(r.stdout) as { node: string; state: string; route: { reason: string } };
    assert.ok(["hub", "alpha"].includes(task.node));
    assert.equal(task.state, "completed");
    assert.match(task.route.reason, /is online/);
    assert.match(task.route.reason, /in flight/);
  });

  test("a dead node shows as unreachable; any goes elsewhere; an explicit task waits, then completes", async () => {
    await alpha.close();
    const probe = await world.run(["nodes", "probe", "alpha"]);
    assert.equal(probe.code, 1);
    assert.match(probe.stdout, /alpha: unreachable/);

    const any = await world.run(["dispatch", "route around the dead one", "--json"]);
    const anyTask = JSON.parse(any.stdout) as { node: string; state: string };
    assert.equal(anyTask.node, "hub");
    assert.equal(anyTask.state, "completed");

    const waiting = await world.run(["dispatch", "for alpha only", "--to", "alpha", "--json"]);
    assert.equal(waiting.code, 0, waiting.stderr);
    const waitTask = JSON.parse(waiting.stdout) as {
      id: string;
      node: string;
      state: string;
      route: { reason: string };
    };
    assert.equal(waitTask.state, "pending");
    assert.match(waitTask.route.reason, /unreachable.*waits in its inbox/);

    // alpha comes back on the same port; the hub's worker picks the task up.
    alpha = await startStubGateway({ port: alpha.port, token: "alpha-secret", reply: "alpha is back" });
    const worker = await world.run(["node", "run", "--node", "alpha", "--once"]);
    assert.equal(worker.code, 0, worker.stderr);
    const show = await world.run(["tasks", "show", waitTask.id, "--json"]);
    const done = JSON.parse(show.stdout) as { state: string; reply: string; attempt: number };
    assert.equal(done.state, "completed");
    assert.equal(done.reply, "alpha is back");
  });

  test("a node whose model provider is down hands any-tasks to the other node, never loops on itself", async () => {
    alpha.setMode("provider-timeout");
    for (let i = 0; i < 3; i++) {
      const r = await world.run(["dispatch", `task ${i} for anyone`, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const task = JSON.parse(r.stdout) as {
        node: string;
        state: string;
        history: { event: string; detail: string }[];
      };
      assert.equal(task.state, "completed");
      assert.equal(task.node, "hub");
      const failures = task.history.filter((h) => h.event === "attempt-failed");
      // Routed to alpha first or not: at most one failed attempt, and it moved on to hub.
      assert.ok(failures.length <= 1);
      if (failures.length) assert.match(failures[0]!.detail, /re-routed to hub/);
    }

    main.setMode("provider-timeout");
    // Nobody can run it: the task is kept (waiting or failed with a reason), never lost.
    const r = await world.run(["dispatch", "nobody can do this", "--json"]);
    const task = JSON.parse(r.stdout) as { id: string; state: string; history: { event: string }[] };
    assert.ok(["pending", "failed"].includes(task.state), task.state);
    assert.equal(
      task.history.filter((h) => h.event === "attempt-failed").length,
      2,
      "one try per node, no loop",
    );
    const listed = await world.run(["tasks", "list", "--json"]);
    assert.ok((JSON.parse(listed.stdout) as { tasks: { id: string }[] }).tasks.some((t) => t.id === task.id));

    // An explicit target goes back to its own inbox, never silently elsewhere.
    main.setMode("ok");
    const second = await world.run(["dispatch", "only alpha", "--to", "alpha", "--json"]);
    const secondTask = JSON.parse(second.stdout) as { state: string; node: string };
    assert.equal(secondTask.state, "pending");
    assert.equal(secondTask.node, "alpha");
    alpha.setMode("ok");

    // Their providers failed a moment ago: both show degraded, with the cause.
    const degraded = await world.run(["status", "--wide"]);
    assert.match(
      degraded.stdout,
      /hub\s+degraded\s+last turn failed \d+s ago: Node hub's model provider did not answer \(408\)/,
    );
    // Asked for by name, a degraded node is still tried; a turn that answers clears the mark.
    for (const node of ["hub", "alpha"]) {
      const back = await world.run(["dispatch", `${node} is back`, "--to", node, "--wait"]);
      assert.equal(back.code, 0, back.stderr);
    }
    const healthy = await world.run(["status"]);
    assert.match(healthy.stdout, /hub\s+online/);
    assert.match(healthy.stdout, /alpha\s+online/);
  });

  test("status shows both tables and --markdown renders the seed's layout", async () => {
    const r = await world.run(["status"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NODE\s+STATUS\s+REASON/);
    assert.match(r.stdout, /TASK\s+TARGET→NODE\s+STATE/);
    const md = await world.run(["status", "--markdown"]);
    for (const heading of [
      "## Node Status",
      "## Communication Channels",
      "## Pending Tasks",
      "## Completed Tasks",
      "> Last Updated: ",
    ]) {
      assert.ok(md.stdout.includes(heading), heading);
    }
    assert.match(md.stdout, /\| \*\*hub\*\* \| ✅ Online \| localhost \|/);
    assert.match(
      md.stdout,
      /> Last Updated: \d{4}-\d\d-\d\d \d\d:\d\d UTC(?:[+-]\d\d:\d\d)?\n/,
      "with its time zone",
    );
    assert.match(md.stdout, /1\. \*\*localhost HTTP\*\*/);
    assert.doesNotMatch(md.stdout, /SSH|Blackboard\*\*/, "only the channels these nodes use");
    assert.doesNotMatch(md.stdout, /\|-+\|\n\n/, "no table without rows");
    assert.match(md.stdout, /写一首诗 about routing/);
  });

  test("Ctrl+C during dispatch --wait hands the task back to its inbox; status says nothing serves it", async () => {
    main.setMode("stall"); // headers and the first words, then nothing
    const dispatch = world.spawn(["dispatch", "a long story", "--to", "hub", "--wait"]);
    await dispatch.waitFor(/→ hub via localhost/); // printed while the chat runs
    dispatch.child.kill("SIGINT");
    assert.equal(await dispatch.exited, 130, dispatch.output());
    const id = /(req_\d{8}_\d{6}_[0-9a-f]{8})/.exec(dispatch.output())?.[1];
    assert.ok(id, dispatch.output());
    assert.match(
      dispatch.output(),
      new RegExp(`Interrupted: ${id} is back in hub's inbox \\(attempt 1/3\\), nothing lost`),
    );
    assert.doesNotMatch(dispatch.output(), /\n\s+at /, "no stack trace");

    const show = await world.run(["tasks", "show", id, "--json"]);
    const task = JSON.parse(show.stdout) as { state: string; attempt: number; history: { event: string }[] };
    assert.equal(task.state, "pending");
    assert.equal(task.attempt, 1, "stopped, not failed: it keeps its attempt");
    assert.ok(task.history.some((h) => h.event === "handed-back"));
    const text = await world.run(["tasks", "show", id]);
    assert.match(
      text.stdout,
      /No worker has reported for hub: nothing picks the task up until `clawos node run --node hub`/,
    );
    const status = await world.run(["status"]);
    assert.match(
      status.stdout.replace(/\n {2,}/g, " "), // a note wraps to the width, under its mark
      /note: \d+ tasks? waits? in hub's inbox and no worker has reported for hub: run clawos node run --node hub/,
    );

    main.setMode("ok");
    const worker = await world.run(["node", "run", "--node", "hub", "--once"]);
    assert.equal(worker.code, 0, worker.stderr);
    const done = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as { state: string };
    assert.equal(done.state, "completed");
  });

  test("--wait --timeout: a task run here is handed back; one queued for another machine goes on", async () => {
    main.setMode("stall");
    const here = await world.run(["dispatch", "slow here", "--to", "hub", "--wait", "--timeout", "1"]);
    assert.equal(here.code, 1, here.stderr);
    assert.match(
      here.stderr,
      /Stopped after 1 s: req_\S+ is back in hub's inbox \(attempt 1\/3\), nothing lost/,
    );
    main.setMode("ok");
    assert.equal((await world.run(["node", "run", "--node", "hub", "--once"])).code, 0);

    assert.equal(
      (await world.run(["nodes", "add", "far", "--machine", "elsewhere", "--port", "18789"])).code,
      0,
    );
    const there = await world.run(["dispatch", "for later", "--to", "far", "--wait", "--timeout", "1"]);
    assert.equal(there.code, 1, there.stderr);
    assert.match(
      there.stderr,
      /Stopped after 1 s: task ([0-9a-f]{8}) goes on without this command\.\n {2}fix: follow it with clawos tasks show \1 --follow, or\s+drop it with clawos tasks cancel \1\n/,
    );
    const id = /task ([0-9a-f]{8}) goes on/.exec(there.stderr)?.[1];
    const task = JSON.parse((await world.run(["tasks", "show", id ?? "?", "--json"])).stdout) as {
      state: string;
    };
    assert.equal(task.state, "pending");
    assert.equal((await world.run(["tasks", "cancel", id ?? "?"])).code, 0);
    assert.equal((await world.run(["nodes", "remove", "far"])).code, 0);
  });
});
