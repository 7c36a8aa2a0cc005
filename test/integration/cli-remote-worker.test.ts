import assert from "node:assert/strict";
import { readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { addNodeOf, editConfig, FAST_TIMING, makeWorld, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

/**
 * The "laptop" is another machine as far as clawos knows: its worker runs with CLAWOS_MACHINE=laptop.
 * Both machines share one home here, so federation.json names no machine (init writes one): a
 * `machine` field would win over CLAWOS_MACHINE and make every process the hub.
 */
const LAPTOP = { CLAWOS_MACHINE: "laptop", LAPTOP_TOKEN: "laptop-secret" };
const nameNoMachine = (c: Record<string, unknown>) => {
  delete c.machine;
};

describe("a node on another machine, served by its own worker process", () => {
  let world: World;
  let gateway: StubGateway;

  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({ token: "laptop-secret", reply: (p) => `laptop did: ${p}`, deltas: 6 });
    assert.equal((await world.run(["init"])).code, 0);
    await addNodeOf(world, "laptop", "laptop", gateway.port, "LAPTOP_TOKEN");
    await editConfig(world, (c) => {
      c.timing = FAST_TIMING;
      nameNoMachine(c);
    });
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  test("a task for the laptop is picked up by its worker and the answer comes back through the blackboard", async () => {
    const status = await world.run(["status", "--json"]);
    const before = JSON.parse(status.stdout) as {
      nodes: { id: string; status: string; transport: string }[];
    };
    assert.deepEqual(
      before.nodes.map((n) => [n.id, n.status, n.transport]),
      [["laptop", "unknown", "blackboard"]],
      "no heartbeat yet: unknown, never online",
    );

    const worker = world.spawn(["node", "run", "--node", "laptop"], { env: LAPTOP });
    await worker.waitFor("worker started on laptop");
    const r = await world.run(["dispatch", "compile the report", "--to", "laptop", "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "laptop did: compile the report");
    assert.match(r.stderr, /via blackboard/);

    const live = JSON.parse((await world.run(["status", "--json"])).stdout) as {
      nodes: { id: string; status: string }[];
    };
    assert.equal(live.nodes[0]?.status, "online");

    worker.child.kill("SIGTERM");
    assert.equal(await worker.exited, 0, worker.output());
    assert.match(worker.output(), /worker stopped/);
    const stopped = JSON.parse((await world.run(["status", "--json"])).stdout) as {
      nodes: { status: string; reason: string }[];
    };
    assert.equal(stopped.nodes[0]?.status, "stale", "asleep only after timing.asleepAfterMs");
    assert.match(stopped.nodes[0]?.reason ?? "", /worker stopped/);
  });

  test("SIGKILL of the worker mid-task: the coordinator reaps it and it completes exactly once after a restart", async () => {
    // About 12 s per answer: long enough to see it running between two CLI calls on a busy machine.
    gateway.configure({ deltas: 30, chunkDelayMs: 400, reply: "a slow but complete answer from the laptop" });
    const first = world.spawn(["node", "run", "--node", "laptop", "--no-coordinator"], { env: LAPTOP });
    await first.waitFor("worker started on laptop");
    const d = await world.run(["dispatch", "long job", "--to", "laptop", "--json"]);
    const id = (JSON.parse(d.stdout) as { id: string }).id;
    await first.waitFor(`claimed ${id}`);
    // Wait until it is really running (progress written), then kill it without warning.
    for (;;) {
      const t = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as { state: string };
      if (t.state === "running") break;
    }
    first.child.kill("SIGKILL");
    await first.exited;

    const coordinator = world.spawn(["node", "run", "--coordinator"]);
    await coordinator.waitFor(new RegExp(`lease of ${id} on laptop expired → requeued`));

    gateway.configure({ deltas: 3, chunkDelayMs: 0 });
    const second = world.spawn(["node", "run", "--node", "laptop", "--no-coordinator"], { env: LAPTOP });
    await second.waitFor(`${id} completed`);

    const task = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as {
      state: string;
      attempt: number;
      reply: string;
      history: { event: string }[];
    };
    assert.equal(task.state, "completed");
    assert.equal(task.attempt, 2);
    assert.equal(task.reply, "a slow but complete answer from the laptop");
    assert.ok(task.history.some((h) => h.event === "lease-expired"));

    const results = (await readdir(join(world.blackboard, "results"))).filter((n) => n.startsWith(id));
    assert.deepEqual(results, [`${id}.a2.completed.json`], "exactly one outcome");
    const listed = JSON.parse((await world.run(["tasks", "list", "--json"])).stdout) as {
      tasks: { id: string }[];
    };
    assert.equal(listed.tasks.filter((t) => t.id === id).length, 1);
    const sessions = new Set(gateway.requests.filter((q) => q.prompt === "long job").map((q) => q.user));
    assert.deepEqual([...sessions], [`clawos:${id}`], "both attempts used the same session user");

    second.child.kill("SIGTERM");
    coordinator.child.kill("SIGTERM");
    await Promise.all([second.exited, coordinator.exited]);
  });

  test("an any-task waiting on a node that stays down is moved by the coordinator to one that is up", async () => {
    // laptop's worker is not running (asleep); a localhost node appears and is online.
    const local = await startStubGateway({ token: "local-secret", reply: "done locally" });
    try {
      await world.writeProfile(
        "beta",
        `{ gateway: { port: ${local.port}, auth: { token: "local-secret" } } }`,
      );
      assert.equal((await world.run(["init"])).code, 0);
      await editConfig(world, nameNoMachine);
      local.setMode("hang");
      const d = await world.run(["dispatch", "whoever is up", "--to", "any", "--json"]);
      const waiting = JSON.parse(d.stdout) as {
        id: string;
        state: string;
        node: string;
        route: { reason: string };
      };
      assert.equal(waiting.state, "pending");
      assert.match(waiting.route.reason, /no node is online/);
      assert.equal(waiting.node, "laptop", "an asleep node ranks above an unreachable one to wait on");
      local.setMode("ok");
      const hub = world.spawn(["node", "run", "--coordinator"]);
      await hub.waitFor(`${waiting.id} completed`);
      const done = JSON.parse((await world.run(["tasks", "show", waiting.id, "--json"])).stdout) as {
        state: string;
        node: string;
        reply: string;
        history: { event: string }[];
      };
      assert.equal(done.state, "completed");
      assert.equal(done.node, "beta");
      assert.ok(done.history.some((h) => h.event === "rerouted"));
      assert.equal(done.reply, "done locally");
      hub.child.kill("SIGTERM");
      await hub.exited;
    } finally {
      await local.close();
    }
  });

  test("cancel stops a running task; retry runs it again; a pending task cancels at once", async () => {
    gateway.configure({
      deltas: 40,
      chunkDelayMs: 300, // about 12 s: time for a CLI call on a busy machine to cancel it mid-answer
      reply: "a long answer that will be cut short by cancel",
    });
    const worker = world.spawn(["node", "run", "--node", "laptop", "--no-coordinator"], { env: LAPTOP });
    await worker.waitFor("worker started on laptop");
    const d = await world.run(["dispatch", "cancel me", "--to", "laptop", "--json"]);
    const id = (JSON.parse(d.stdout) as { id: string }).id;
    await worker.waitFor(`claimed ${id}`);
    const c = await world.run(["tasks", "cancel", id]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /cancel requested|cancelled/);
    await worker.waitFor(`${id} cancelled`);
    const cancelled = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as {
      state: string;
    };
    assert.equal(cancelled.state, "cancelled");
    const again = await world.run(["tasks", "cancel", id]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already finished/);

    gateway.configure({ deltas: 2, chunkDelayMs: 0, reply: "done on retry" });
    const retry = await world.run(["tasks", "retry", id]);
    assert.equal(retry.code, 0, retry.stderr);
    await worker.waitFor(`${id} completed`);
    const done = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as {
      state: string;
      reply: string;
      attempt: number;
    };
    assert.deepEqual([done.state, done.reply, done.attempt], ["completed", "done on retry", 2]);
    const completedRetry = await world.run(["tasks", "retry", id]);
    assert.equal(completedRetry.code, 2);
    assert.match(completedRetry.stderr, /only failed or cancelled tasks/);

    worker.child.kill("SIGTERM");
    await worker.exited;
    const p = await world.run(["dispatch", "never runs", "--to", "laptop", "--json"]);
    const pendingId = (JSON.parse(p.stdout) as { id: string }).id;
    assert.match((await world.run(["tasks", "cancel", pendingId])).stdout, /cancelled/);
    const shown = JSON.parse((await world.run(["tasks", "show", pendingId, "--json"])).stdout) as {
      state: string;
    };
    assert.equal(shown.state, "cancelled");
  });

  test("a worker that runs for days starts again when its node changes in the shared registry, then runs what waited", async () => {
    // The laptop updates its own node (its worker took it over from the hub, which registered it).
    const port = (n: number) => async () => {
      const r = await world.run(
        ["nodes", "add", "laptop", "--port", String(n), "--token-env", "LAPTOP_TOKEN", "--replace"],
        { env: LAPTOP },
      );
      assert.equal(r.code, 0, r.stderr);
    };
    await port(gateway.port === 65535 ? gateway.port - 1 : gateway.port + 1)(); // nothing listens there
    const worker = world.spawn(["node", "run", "--node", "laptop", "--no-coordinator"], { env: LAPTOP });
    try {
      await worker.waitFor("worker started on laptop");
      const queued = await world.run(["dispatch", "after the fix", "--to", "laptop", "--json"]);
      const { id } = JSON.parse(queued.stdout) as { id: string };
      await port(gateway.port)();
      await worker.waitFor("the shared registry changed this machine's nodes: restarting on it");
      await worker.waitFor(/worker started on laptop[\s\S]*worker started on laptop/);
      await worker.waitFor(`${id} completed`);
      const done = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as { state: string };
      assert.equal(done.state, "completed");
      assert.ok(
        gateway.requests.some((q) => q.user === `clawos:${id}`),
        "the gateway on the new port ran it",
      );
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  });

  test("a restart lets a running task finish; a moved-aside registry is not followed; a signal during the wait stops for good", async () => {
    let attempts = 3;
    const note = (_why: string) =>
      editConfig(world, (config) => {
        config.timing = { ...FAST_TIMING, maxAttempts: ++attempts };
      });
    const countStarts = (output: string) => output.split("worker started on laptop").length - 1;
    const queue = async (text: string) =>
      (JSON.parse((await world.run(["dispatch", text, "--to", "laptop", "--json"])).stdout) as { id: string })
        .id;
    gateway.configure({ chunkDelayMs: 300, deltas: 6 }); // about 2 s per answer
    const worker = world.spawn(["node", "run", "--node", "laptop", "--no-coordinator"], { env: LAPTOP });
    try {
      await worker.waitFor("worker started on laptop");
      const first = { id: await queue("a long one") };
      await worker.waitFor(`claimed ${first.id}`);
      await note("changed while a task runs");
      await worker.waitFor("federation.json changed: restarting on it once running tasks are done");
      await worker.waitFor(`${first.id} completed`);
      const done = JSON.parse((await world.run(["tasks", "show", first.id, "--json"])).stdout) as {
        state: string;
        attempt: number;
      };
      assert.deepEqual([done.state, done.attempt], ["completed", 1], "finished, not cut off and run again");
      await worker.waitFor(/worker started on laptop[\s\S]*worker started on laptop/);

      const path = join(world.clawosHome, "federation.json");
      await rename(path, `${path}.aside`);
      await worker.waitFor(
        "federation.json is gone (moved aside?); this worker keeps the one it started with",
      );
      await rename(`${path}.aside`, path);

      const second = { id: await queue("another long one") };
      await worker.waitFor(`claimed ${second.id}`);
      await note("changed again");
      await worker.waitFor(
        /restarting on it once running tasks are done[\s\S]*restarting on it once running tasks are done/,
      );
      const startsBefore = countStarts(worker.output());
      worker.child.kill("SIGTERM");
      assert.equal(await worker.exited, 0);
      assert.equal(countStarts(worker.output()), startsBefore, "stopped for good: no start after the signal");
      assert.match(worker.output(), /worker stopped/);
    } finally {
      gateway.configure({ chunkDelayMs: 0 });
      if (worker.child.exitCode === null) {
        worker.child.kill("SIGTERM");
        await worker.exited;
      }
    }
  });
});
