/** The control center's facade over the core, in-process: what happens to tasks it runs when it closes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { LiveFederation } from "../../source/core/federation/live-federation.js";
import { makeWorld, profileConfig } from "../testkit/cli-harness.js";
import { startStubGateway } from "../testkit/stub-gateway.js";

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
