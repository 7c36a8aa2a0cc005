/** The control center's facade over the core, in-process: what happens to tasks it runs when it closes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import type { Snapshot } from "../../source/core/domain/federation-types.js";
import { newTaskId } from "../../source/core/domain/ids.js";
import { FINAL_STATES } from "../../source/core/domain/schema.js";
import { LiveFederation } from "../../source/core/federation/live-federation.js";
import { compareTasks } from "../../source/ui/state/rows.js";
import { makeWorld, profileConfig } from "../testkit/cli-harness.js";
import { startStubGateway } from "../testkit/stub-gateway.js";
import { makeRequest, resultFor } from "./blackboard/contract.js";

test("closing the control center hands a localhost task it is running back to the node's inbox", async () => {
  const world = await makeWorld();
  const gateway = await startStubGateway({ token: "main-secret", reply: "a story that never ends" });
  try {
    await world.writeProfile(null, profileConfig(gateway.port, "main-secret"));
    assert.equal((await world.run(["init"])).code, 0);
    gateway.setMode("stall"); // the first words, then nothing: the task stays running
    const live = await LiveFederation.open(world.clawosHome, world.env);
    const board = new DirectoryBlackboard(world.blackboard);
    let closed = false;
    try {
      const { id } = await live.dispatch({ text: "tell me a story", to: "hub", priority: "P2" });
      assert.ok(["claimed", "running"].includes((await board.get(id))?.state ?? ""));

      closed = true;
      assert.deepEqual(await live.close(), [{ id, node: "hub" }]);
      const task = await board.get(id);
      assert.equal(task?.state, "pending");
      assert.equal(task?.request.attempt, 1, "stopped, not failed: it keeps its attempt");
      assert.ok(task?.request.history.some((h) => h.event === "handed-back"));
    } finally {
      if (!closed) await live.close(); // a failed check above must not leave the facade running
      await board.close();
    }
  } finally {
    await gateway.close();
    await world.cleanup();
  }
});

test("the control center's snapshot keeps each node's recent probe latencies, one sample per probe", async () => {
  const world = await makeWorld();
  const gateway = await startStubGateway({ token: "main-secret" });
  try {
    await world.writeProfile(null, profileConfig(gateway.port, "main-secret"));
    assert.equal((await world.run(["init"])).code, 0);
    const live = await LiveFederation.open(world.clawosHome, world.env);
    const samples = () => live.getSnapshot().nodes.find((n) => n.id === "hub")?.recentLatencyMs ?? [];
    const until = async (ok: () => boolean, what: string) => {
      const deadline = Date.now() + 20_000;
      while (!ok()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(samples())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await until(() => samples().length >= 1, "the first probe");
      const first = samples().length;
      // Each refresh probes again: one more sample each, kept in order across the reopened core.
      await live.refresh();
      await until(() => samples().length >= first + 1, "a second probe");
      await live.refresh();
      await until(() => samples().length >= first + 2, "a third probe");
      assert.ok(samples().length <= 20);
      for (const ms of samples()) assert.ok(Number.isFinite(ms) && ms >= 0, `latency ${ms}`);
    } finally {
      await live.close();
    }
  } finally {
    await gateway.close();
    await world.cleanup();
  }
});

test("the control center's first snapshot reads only the newest finished tasks; the older ones follow below them", async () => {
  const world = await makeWorld();
  const gateway = await startStubGateway({ token: "main-secret" });
  try {
    await world.writeProfile(null, profileConfig(gateway.port, "main-secret"));
    assert.equal((await world.run(["init"])).code, 0);
    // 12 finished tasks a minute apart, and one waiting (newer than all of them).
    const board = new DirectoryBlackboard(world.blackboard);
    const newest = Date.parse("2026-03-01T12:00:00.000Z");
    const finishedIds: string[] = [];
    let waiting = "";
    try {
      for (let i = 0; i < 12; i++) {
        const created = new Date(newest - i * 61_000);
        const request = makeRequest({
          node: "hub",
          id: newTaskId(created),
          createdAt: created.toISOString(),
        });
        const claim = await board.enqueueClaimed(request);
        assert.ok(claim);
        assert.ok(await board.complete(claim, resultFor(claim, i % 4 === 3 ? "failed" : "completed")));
        finishedIds.push(request.id);
      }
      const created = new Date(newest + 60_000);
      waiting = newTaskId(created);
      await board.enqueue(makeRequest({ node: "hub", id: waiting, createdAt: created.toISOString() }));
    } finally {
      await board.close();
    }

    const live = await LiveFederation.open(world.clawosHome, world.env, {
      waitForFirstRead: false,
      firstFinished: 5,
    });
    const seen: Snapshot[] = [];
    live.subscribe((snapshot) => seen.push(snapshot));
    const finished = (s: Snapshot) => s.tasks.filter((t) => FINAL_STATES.includes(t.state));
    const rows = (s: Snapshot) => [...s.tasks].sort(compareTasks).map((t) => t.id);
    try {
      const deadline = Date.now() + 20_000;
      while (!seen.some((s) => finished(s).length === 12)) {
        if (Date.now() > deadline)
          throw new Error(`no snapshot with every finished task: ${seen.length} seen`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const [first] = seen;
      assert.ok(first);
      assert.deepEqual(
        finished(first)
          .map((t) => t.id)
          .sort()
          .reverse(),
        finishedIds.slice(0, 5),
        "the newest five",
      );
      assert.ok(first.tasks.some((t) => t.id === waiting && t.state === "pending"));
      // The counts cover every task from the start: nothing on screen jumps but the rows below.
      assert.equal(first.counts.completed + first.counts.failed, 12);
      assert.equal(first.counts.failed, 3);
      assert.equal(first.counts.pending, 1);
      const full = seen.find((s) => finished(s).length === 12);
      assert.ok(full);
      assert.deepEqual(full.counts, first.counts);
      // The rows of the first snapshot keep their places: the older tasks come in below them.
      assert.deepEqual(rows(full).slice(0, first.tasks.length), rows(first));
      assert.equal(rows(full).length, 13);
    } finally {
      await live.close();
    }
  } finally {
    await gateway.close();
    await world.cleanup();
  }
});
