/**
 * `clawos blackboard migrate --to nats://…` through the real CLI: a federation with pending,
 * claimed and finished tasks on the directory blackboard moves to a real nats-server and
 * keeps every task; then the real worker and dispatch run on NATS.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DirectoryBlackboard } from "../../../source/core/blackboard/directory/directory.js";
import { NatsBlackboard } from "../../../source/core/blackboard/nats/nats.js";
import { addNodeOf, editConfig, FAST_TIMING, makeWorld, type World } from "../../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../../testkit/stub-gateway.js";
import { makeRequest, resultFor } from "./contract.js";
import { type NatsServer, startNatsServer } from "./nats-fixture.js";

/** The laptop shares this home: federation.json names no machine, so CLAWOS_MACHINE names each process. */
const LAPTOP = { CLAWOS_MACHINE: "laptop", LAPTOP_TOKEN: "laptop-secret" };

interface ListedTask {
  id: string;
  node: string;
  state: string;
  attempt: number;
  reply?: string;
  text: string;
}

describe("clawos blackboard migrate: directory → NATS", () => {
  let world: World;
  let gateway: StubGateway;
  let nats: NatsServer;
  const expected = new Map<string, { state: string; node: string; reply?: string }>();

  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({ token: "laptop-secret", reply: (p) => `laptop did: ${p}` });
    nats = await startNatsServer();
    assert.equal((await world.run(["init"])).code, 0);
    for (const [id, machine, port] of [
      ["laptop", "laptop", gateway.port],
      ["cloud", "cloud-vm", 65_000],
    ] as const)
      await addNodeOf(world, machine, id, port, "LAPTOP_TOKEN");
    await editConfig(world, (c) => {
      c.timing = FAST_TIMING;
      delete c.machine; // init wrote "hub", which would win over the laptop's CLAWOS_MACHINE
    });
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
    await nats.cleanup();
  });

  const listTasks = async () => {
    const r = await world.run(["tasks", "list", "--json", "--limit", "1000"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as {
      tasks: ListedTask[];
      counts: Record<string, number>;
      problems: string[];
    };
  };

  test("every task moves — pending, claimed (pending again, same attempt) and finished with its result — and a second run changes nothing", async () => {
    // Pending tasks, dispatched the ordinary way to a node on another machine.
    for (const text of ["整理今天的日志", "compile the weekly report"]) {
      const d = await world.run(["dispatch", text, "--to", "laptop", "--json"]);
      assert.equal(d.code, 0, d.stderr);
      const id = (JSON.parse(d.stdout) as { id: string }).id;
      expected.set(id, { state: "pending", node: "laptop" });
    }
    // The rest written by the directory driver directly, as workers would have left them.
    const dir = new DirectoryBlackboard(world.blackboard);
    await dir.init();
    const cloud = makeRequest({ node: "cloud" });
    await dir.enqueue(cloud);
    expected.set(cloud.id, { state: "pending", node: "cloud" });
    const claimedReq = makeRequest({ node: "laptop" });
    await dir.enqueue(claimedReq);
    assert.ok(await dir.claim("laptop", claimedReq.id));
    expected.set(claimedReq.id, { state: "pending", node: "laptop" });
    const runningReq = makeRequest({ node: "laptop" });
    await dir.enqueue(runningReq);
    const running = await dir.claim("laptop", runningReq.id);
    assert.ok(running);
    await dir.progress(running, "half of it", new Date().toISOString());
    expected.set(runningReq.id, { state: "pending", node: "laptop" });
    for (const status of ["completed", "failed"] as const) {
      const r = makeRequest({ node: "cloud" });
      await dir.enqueue(r);
      const c = await dir.claim("cloud", r.id);
      assert.ok(c);
      assert.equal(await dir.complete(c, resultFor(c, status, `the ${status} answer`)), true);
      expected.set(r.id, { state: status, node: "cloud", reply: `the ${status} answer` });
    }
    const cancelled = makeRequest({ node: "cloud" });
    await dir.enqueue(cancelled);
    await dir.requestCancel(cancelled.id);
    expected.set(cancelled.id, { state: "cancelled", node: "cloud" });
    await dir.writeNodeStatus({
      schema: "clawos.node-status/1",
      node: "cloud",
      machine: "cloud-vm",
      pid: 4242,
      version: "0.1.0",
      startedAt: "2026-03-01T12:00:00.000Z",
      heartbeatAt: "2026-03-01T12:00:05.000Z",
      state: "stopped",
      inFlight: [],
      completed: 1,
      failed: 1,
      gateway: { reachable: true, checkedAt: "2026-03-01T12:00:05.000Z" },
    });
    await dir.close();
    const before = await listTasks();
    assert.equal(before.tasks.length, expected.size);
    const configBefore = await readFile(join(world.clawosHome, "federation.json"), "utf8");

    // Dry run: the plan, and nothing changes anywhere.
    const plan = await world.run(["blackboard", "migrate", "--to", nats.url, "--dry-run"]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /dry run/);
    assert.match(
      plan.stdout,
      /8 tasks: 5 arrive pending \(2 were claimed.*3 finished \(1 completed, 1 failed, 1 cancelled\)/,
    );
    assert.match(plan.stdout, /reachable, JetStream on/);
    assert.match(plan.stdout, /1 node status/);
    assert.equal(await readFile(join(world.clawosHome, "federation.json"), "utf8"), configBefore);
    const probe = new NatsBlackboard({ servers: [nats.url] });
    await probe.init();
    try {
      assert.equal((await probe.list()).tasks.length, 0, "a dry run copies nothing");
    } finally {
      await probe.close();
    }

    const moved = await world.run(["blackboard", "migrate", "--to", nats.url]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /copied 8, already on NATS 0/);
    assert.match(moved.stdout, /federation.json now uses/);
    const config = JSON.parse(await readFile(join(world.clawosHome, "federation.json"), "utf8")) as {
      blackboard: unknown;
      timing: { leaseMs: number };
    };
    assert.deepEqual(config.blackboard, { driver: "nats", servers: [nats.url] });
    assert.ok(config.timing.leaseMs > 0, "the rest of federation.json is kept");
    // The shared registry moved with the tasks: both nodes are still there.
    const listed = JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as { id: string }[];
    assert.equal(listed.length, 2, "both nodes of the registry are on NATS too");

    // The CLI now reads NATS: every task is there, in the state it should be.
    const after = await listTasks();
    assert.deepEqual(after.problems, []);
    assert.deepEqual(after.counts, {
      pending: 5,
      claimed: 0,
      running: 0,
      completed: 1,
      failed: 1,
      cancelled: 1,
    });
    assert.deepEqual(after.tasks.map((t) => t.id).sort(), [...expected.keys()].sort());
    for (const t of after.tasks) {
      const want = expected.get(t.id)!;
      const was = before.tasks.find((b) => b.id === t.id)!;
      assert.equal(t.state, want.state, `${t.id} state`);
      assert.equal(t.node, want.node, `${t.id} node`);
      assert.equal(t.attempt, was.attempt, `${t.id} keeps its attempt`);
      assert.equal(t.text, was.text);
      if (want.reply) assert.equal(t.reply, want.reply);
    }
    const show = await world.run(["tasks", "show", [...expected.keys()][0]!, "--json"]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /整理今天的日志/);

    // Again: idempotent.
    const again = await world.run(["blackboard", "migrate", "--to", nats.url]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /copied 0, already on NATS 8/);
    assert.match(again.stdout, /unchanged/);
    assert.equal((await listTasks()).tasks.length, expected.size);

    const bb = new NatsBlackboard({ servers: [nats.url] });
    await bb.init();
    try {
      const statuses = await bb.readNodeStatuses();
      assert.deepEqual(
        statuses.records.map((r) => r.node),
        ["cloud"],
      );
      assert.deepEqual(await bb.pendingIds("cloud"), [cloud.id], "the cloud's pending task waits on NATS");
    } finally {
      await bb.close();
    }
  });

  test("after the move, the laptop's worker runs the migrated tasks from NATS and dispatch --wait answers through it", async () => {
    const laptopIds = [...expected].filter(([, v]) => v.node === "laptop").map(([id]) => id);
    assert.equal(laptopIds.length, 4);
    const worker = world.spawn(["node", "run", "--node", "laptop", "--coordinator"], { env: LAPTOP });
    try {
      await worker.waitFor("worker started on laptop");
      assert.match(worker.output(), /blackboard nats:\/\/127\.0\.0\.1:\d+/);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { tasks } = await listTasks();
        const done = tasks.filter((t) => laptopIds.includes(t.id) && t.state === "completed");
        if (done.length === laptopIds.length) {
          for (const t of done) assert.equal(t.reply, `laptop did: ${t.text}`);
          break;
        }
        assert.ok(Date.now() < deadline, `the migrated tasks were not run:\n${worker.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const r = await world.run(["dispatch", "one more, on NATS", "--to", "laptop", "--wait"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "laptop did: one more, on NATS");
      const { counts } = await listTasks();
      assert.equal(counts.pending, 1, "only the cloud's task still waits");
      assert.equal(counts.completed, 1 + laptopIds.length + 1);
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  });
});
