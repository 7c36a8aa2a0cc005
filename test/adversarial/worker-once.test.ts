/** `clawos node run --once` with more waiting tasks than its concurrency, through the real CLI. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type World, worldWithMain } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const TOKEN = "once-token";

describe("node run --once", () => {
  let world: World;
  let gateway: StubGateway;

  before(async () => {
    gateway = await startStubGateway({ token: TOKEN, reply: (p) => `done: ${p}` });
    world = await worldWithMain(gateway.port, TOKEN);
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  test("waits for every task it claimed beyond its concurrency, and counts them truthfully", async () => {
    // While the gateway says it is starting, tasks for hub wait in its inbox.
    gateway.setMode("starting");
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const r = await world.run(["dispatch", `task ${i}`, "--to", "hub", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const task = JSON.parse(r.stdout) as { id: string; state: string };
      assert.equal(task.state, "pending");
      ids.push(task.id);
    }
    // Each answer takes a while, so tasks finish one by one while the others wait for a slot.
    gateway.configure({ mode: "slow", slowMs: 400 });
    const worker = await world.run(["node", "run", "--node", "hub", "--once", "--concurrency", "1"]);
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout, /^4 completed, 0 failed, 0 handed back$/m, worker.stderr);

    for (const id of ids) {
      const show = await world.run(["tasks", "show", id, "--json"]);
      const task = JSON.parse(show.stdout) as { state: string; attempt: number };
      assert.deepEqual([id, task.state, task.attempt], [id, "completed", 1]);
    }
    const chats = gateway.requests.filter((r) => r.path === "/v1/chat/completions");
    assert.equal(chats.length, 4, "each task ran exactly once");
  });
});
