/**
 * `clawos blackboard migrate` with this machine's background worker running, as a new user
 * has it after `clawos init`: the worker stops for the copy (so it cannot claim a task on the
 * directory after that task was copied) and starts again on NATS, which then runs the tasks.
 * Real processes: the CLI bundle, the detached worker, a stub gateway and a real nats-server.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, profileConfig, type World, workerPids } from "../../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../../testkit/stub-gateway.js";
import { type NatsServer, startNatsServer } from "./nats-fixture.js";

const ID = /(req_\d{8}_\d{6}_[0-9a-f]{8})/;

describe("blackboard migrate with the automatic worker running", () => {
  let world: World;
  let main: StubGateway;
  let nats: NatsServer;

  before(async () => {
    world = await makeWorld();
    delete world.env.CLAWOS_WORKER_AUTOSTART; // what a user gets: init starts the worker
    main = await startStubGateway({ token: "main-secret", reply: (p) => `main says: ${p}` });
    nats = await startNatsServer();
    await world.writeProfile(null, profileConfig(main.port, "main-secret"));
    const init = await world.run(["init"]);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    await main.close();
    await world.cleanup();
    await nats.cleanup();
  });

  test("a bad URL or a server that does not answer is said before the worker is touched", async () => {
    const [running] = await workerPids(world.clawosHome);
    assert.ok(running, "init started a background worker");
    const typo = await world.run(["blackboard", "migrate", "--to", "nat://127.0.0.1:4222"]);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /is not a NATS server URL/);
    const down = await world.run(["blackboard", "migrate", "--to", "nats://127.0.0.1:1"]);
    assert.notEqual(down.code, 0);
    assert.deepEqual(await workerPids(world.clawosHome), [running], "the same worker runs on");
    assert.doesNotMatch(`${typo.stderr}${down.stderr}`, /stopped for the copy/);
  });

  test("a worker started by hand is not stopped: nothing is moved until it is", async () => {
    assert.equal((await world.run(["node", "stop-worker"])).code, 0);
    const byHand = world.spawn(["node", "run"]);
    try {
      await byHand.waitFor("worker started on hub");
      const r = await world.run(["blackboard", "migrate", "--to", nats.url]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /started by hand \(clawos node run, pid \d+\).*Nothing was moved\./);
      const config = JSON.parse(await readFile(join(world.clawosHome, "federation.json"), "utf8")) as {
        blackboard: { driver: string };
      };
      assert.equal(config.blackboard.driver, "directory");
    } finally {
      byHand.child.kill("SIGTERM");
      await byHand.exited;
    }
    // What a user does next: any command that queues work starts the background worker again.
    const d = await world.run(["dispatch", "before the move", "--to", "hub", "--wait"]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal((await workerPids(world.clawosHome)).length, 1);
  });

  test("the worker stops for the copy, runs again on NATS, and runs the next task from there", async () => {
    const [before] = await workerPids(world.clawosHome);
    assert.ok(before, "init started a background worker");

    const r = await world.run(["blackboard", "migrate", "--to", nats.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /looks alive/, "the worker was stopped before the copy");
    const said = /stopped for the copy \(pid (\d+)\) and runs again on the new blackboard \(pid (\d+)\)/.exec(
      r.stdout,
    );
    assert.ok(said, r.stdout);
    assert.equal(Number(said[1]), before);
    const pids = await workerPids(world.clawosHome);
    assert.deepEqual(pids, [Number(said[2])], "one worker, the new one");
    assert.notEqual(pids[0], before);

    const d = await world.run(["dispatch", "after the move", "--to", "hub"]);
    assert.equal(d.code, 0, d.stderr);
    assert.doesNotMatch(d.stderr, /Started this machine's worker/, "the restarted worker serves it");
    const id = ID.exec(d.stderr)?.[1];
    assert.ok(id, d.stderr);
    const follow = await world.run(["tasks", "show", id, "--follow"], { timeoutMs: 60_000 });
    assert.equal(follow.code, 0, follow.stderr);
    assert.match(follow.stdout, /main says: after the move/);
    const log = await readFile(join(world.clawosHome, "logs", "worker.log"), "utf8");
    assert.match(log, new RegExp(`blackboard ${nats.url.replace(/[.]/g, "\\.")}`));
    assert.match(log, new RegExp(`hub: ${id} completed`));
  });
});
