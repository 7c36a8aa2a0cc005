/** One rule for machine identity: the file's `machine` wins, and a worker serves only its own machine's nodes. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { addNodeOf, editConfig, FAST_TIMING, makeWorld, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

interface TaskView {
  state: string;
  reply?: string;
}

describe("machine identity: the hub (CLAWOS_MACHINE=hub) and a node registered on the laptop", () => {
  let world: World;
  let gateway: StubGateway;
  const env = { LAPTOP_TOKEN: "laptop-secret" };
  const show = async (id: string) =>
    JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as TaskView;
  const dispatch = async (text: string) => {
    const d = await world.run(["dispatch", text, "--to", "laptop", "--json"]);
    assert.equal(d.code, 0, d.stderr);
    return (JSON.parse(d.stdout) as { id: string }).id;
  };

  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({ token: "laptop-secret", reply: (p) => `laptop did: ${p}` });
    assert.equal((await world.run(["init"])).code, 0);
    await addNodeOf(world, "laptop", "laptop", gateway.port, "LAPTOP_TOKEN");
    await editConfig(world, (c) => {
      c.timing = FAST_TIMING;
    });
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  test("a worker here refuses the laptop's node: one line naming the node, its machine and the fix; exit 2", async () => {
    const id = await dispatch("not here");
    const r = await world.run(["node", "run", "--node", "laptop", "--once"], { env });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0] ?? "",
      /Node laptop belongs to machine laptop, not this one \(hub\): run its worker there, or add --adopt to serve it from here\./,
    );
    assert.equal((await show(id)).state, "pending", "nothing was claimed");
  });

  test("without --node the worker serves this machine's nodes only, never the laptop's", async () => {
    const id = await dispatch("still not here");
    const r = await world.run(["node", "run", "--once"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /worker started on hub: serving no nodes/);
    assert.equal((await show(id)).state, "pending");
  });

  test("--adopt serves it from here", async () => {
    const id = await dispatch("adopted");
    const r = await world.run(["node", "run", "--node", "laptop", "--adopt", "--once"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /completed/);
    const task = await show(id);
    assert.equal(task.state, "completed");
    assert.equal(task.reply, "laptop did: adopted");
  });

  test("--adopt without --node is a usage error", async () => {
    const r = await world.run(["node", "run", "--adopt", "--once"], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--adopt serves the nodes named with --node/);
  });

  test("the file's machine field beats CLAWOS_MACHINE", async () => {
    await editConfig(world, (c) => {
      c.machine = "laptop";
    });
    const status = JSON.parse((await world.run(["status", "--json"])).stdout) as {
      machine: string;
      nodes: { id: string; transport: string }[];
    };
    assert.equal(status.machine, "laptop");
    assert.equal(status.nodes.find((n) => n.id === "laptop")?.transport, "localhost");
    // Now the laptop's own worker: no --adopt needed, whatever CLAWOS_MACHINE says.
    const r = await world.run(["node", "run", "--node", "laptop", "--once"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /worker started on laptop: serving laptop/);
  });
});
