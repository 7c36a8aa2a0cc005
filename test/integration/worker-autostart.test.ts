/**
 * This machine's worker is always running: commands that queue work start it in the
 * background when none serves the machine, `dispatch` without --wait leaves the turn to it,
 * `tasks show --follow` streams the reply, and `node stop-worker` stops it. Real processes:
 * the CLI bundle, the detached worker it starts, a stub gateway that answers when the test
 * says so.
 */
import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { editConfig, makeWorld, profileConfig, type World, workerPids } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const ID = /(req_\d{8}_\d{6}_[0-9a-f]{8})/;

/** A gate the stub's turns wait at (mode "slow"), opened by the test. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function taskState(world: World, id: string): Promise<{ state: string; attempt: number }> {
  const r = await world.run(["tasks", "show", id, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { state: string; attempt: number };
}

/** Follows a task to its end with `tasks show --follow`; returns that command's result. */
async function follow(world: World, id: string) {
  const r = await world.run(["tasks", "show", id, "--follow"], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

describe("the automatic worker: dispatch returns, the worker runs the turn", () => {
  let world: World;
  let main: StubGateway;

  before(async () => {
    world = await makeWorld();
    delete world.env.CLAWOS_WORKER_AUTOSTART; // what a user gets
    main = await startStubGateway({ token: "main-secret", reply: (p) => `main says: ${p}`, deltas: 5 });
    await world.writeProfile(null, profileConfig(main.port, "main-secret"));
    const init = await world.run(["init"], { env: { CLAWOS_WORKER_AUTOSTART: "0" } });
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    await main.close();
    await world.cleanup();
  });

  test("a dispatch to a node nobody has is refused and starts no worker", async () => {
    const r = await world.run(["dispatch", "to nowhere", "--to", "nowhere"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nowhere/);
    assert.doesNotMatch(r.stderr, /Started this machine's worker/);
    assert.deepEqual(await workerPids(world.clawosHome), []);
  });

  test("two dispatches at once start one worker, and say so once", async () => {
    const [a, b] = await Promise.all([
      world.run(["dispatch", "first at once", "--to", "hub"]),
      world.run(["dispatch", "second at once", "--to", "hub"]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const said = `${a.stderr}${b.stderr}`.match(/Started this machine's worker in the background/g) ?? [];
    assert.equal(said.length, 1, `${a.stderr}\n---\n${b.stderr}`);
    assert.match(
      `${a.stderr}${b.stderr}`,
      /\(pid \d+, log .*worker\.log\); stop it with clawos node stop-worker, or keep one running as a service: clawos node install-service/,
    );
    const pids = await workerPids(world.clawosHome);
    assert.equal(pids.length, 1, `one worker process, not ${pids.length}`);
    const record = JSON.parse(await readFile(join(world.clawosHome, "run", "worker.json"), "utf8")) as {
      pid: number;
    };
    assert.equal(record.pid, pids[0]);
    assert.equal((await stat(join(world.clawosHome, "run", "worker.json"))).mode & 0o777, 0o600);
    for (const r of [a, b]) {
      const id = ID.exec(r.stderr)?.[1];
      assert.ok(id, r.stderr);
      // The hint gives the short id, and it is enough to follow the task.
      assert.match(r.stderr, new RegExp(`follow it with: clawos tasks show ${id.slice(-8)} --follow`));
      assert.match((await follow(world, id.slice(-8))).stdout, /main says: (first|second) at once/);
    }
  });

  test("dispatch without --wait returns while the turn runs; tasks show --follow prints the reply", async () => {
    const turn = gate();
    main.configure({ mode: "slow", slowUntil: turn.opened });
    try {
      const r = await world.run(["dispatch", "take your time", "--to", "hub"]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Started this machine's worker/, "it runs already: nothing to say");
      const id = ID.exec(r.stderr)?.[1];
      assert.ok(id, r.stderr);
      // The stub has not answered (its turn waits for the gate), yet dispatch is back.
      assert.notEqual((await taskState(world, id)).state, "completed");
      const following = world.spawn(["tasks", "show", id, "--follow"]);
      await following.waitFor(`Following ${id} on hub`);
      turn.open();
      assert.equal(await following.exited, 0, following.output());
      assert.match(following.output(), /main says: take your time\n/);
      assert.match(following.output(), new RegExp(`${id} completed on hub \\(attempt 1/3`));
      // The worker ran it, not the dispatcher: the worker's log names the task.
      const log = await readFile(join(world.clawosHome, "logs", "worker.log"), "utf8");
      assert.match(log, new RegExp(`hub: ${id} completed`));
    } finally {
      turn.open();
      main.configure({ mode: "ok" });
    }
  });

  test("status shows the worker; stop-worker stops it; the next dispatch starts another", async () => {
    const [pid] = await workerPids(world.clawosHome);
    assert.ok(pid);
    const status = await world.run(["status"]);
    assert.match(
      status.stdout,
      new RegExp(
        `Worker: in the background, pid ${pid}, since \\d\\d:\\d\\d; clawos node stop-worker stops it`,
      ),
    );
    const json = JSON.parse((await world.run(["status", "--json"])).stdout) as {
      worker: { running: boolean; kind: string; pid: number };
    };
    assert.deepEqual([json.worker.running, json.worker.kind, json.worker.pid], [true, "background", pid]);

    const stop = await world.run(["node", "stop-worker"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`Stopped this machine's background worker \\(pid ${pid}\\)`));
    assert.deepEqual(await workerPids(world.clawosHome), []);
    assert.match(await readFile(join(world.clawosHome, "logs", "worker.log"), "utf8"), /worker stopped/);
    const again = await world.run(["node", "stop-worker"]);
    assert.match(again.stdout, /No background worker runs for this home; nothing to stop/);
    assert.match((await world.run(["status"])).stdout, /Worker: not running on this machine/);

    const next = await world.run(["dispatch", "anyone home?", "--to", "hub"]);
    assert.match(next.stderr, /Started this machine's worker in the background/);
    const id = ID.exec(next.stderr)?.[1];
    assert.ok(id);
    assert.match((await follow(world, id)).stdout, /main says: anyone home\?/);
  });

  test("a stale pid file naming another process is not taken for the worker", async () => {
    await world.run(["node", "stop-worker"]);
    // This test process is alive but is no worker: the pid file must not make it one.
    await writeFile(
      join(world.clawosHome, "run", "worker.json"),
      JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), home: world.clawosHome }),
    );
    const status = await world.run(["status"]);
    assert.match(status.stdout, /Worker: not running on this machine/);
    const r = await world.run(["dispatch", "after a reboot", "--to", "hub"]);
    assert.match(r.stderr, /Started this machine's worker in the background/);
    assert.equal((await workerPids(world.clawosHome)).length, 1);
  });

  test('"worker": {"autoStart": false} in federation.json keeps it off; dispatch then runs the turn itself', async () => {
    await world.run(["node", "stop-worker"]);
    await editConfig(world, (c) => {
      c.worker = { autoStart: false };
    });
    try {
      const r = await world.run(["dispatch", "no worker please", "--to", "hub"]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Started this machine's worker/);
      assert.match(r.stderr, /no worker serves this machine, so it runs here/);
      assert.deepEqual(await workerPids(world.clawosHome), []);
      const id = ID.exec(r.stderr)?.[1];
      assert.ok(id);
      assert.equal((await taskState(world, id)).state, "completed");
    } finally {
      await editConfig(world, (c) => {
        delete c.worker;
      });
    }
  });
  test("a worker started by hand for one node does not count for the others: dispatch starts one for them", async () => {
    await world.run(["node", "stop-worker"]);
    const side = await startStubGateway({ reply: (p) => `side says: ${p}` });
    const added = await world.run(["nodes", "add", "side", "--port", String(side.port), "--no-token"]);
    assert.equal(added.code, 0, added.stderr);
    const hand = world.spawn(["node", "run", "--node", "side"]);
    try {
      await hand.waitFor("worker started", 60_000);
      // Its first heartbeat follows the start line.
      const partial = /Worker: none for hub \(one started by hand serves the rest\); clawos node run/;
      let status = "";
      for (let i = 0; i < 40 && !partial.test(status); i++) {
        if (i) await new Promise((r) => setTimeout(r, 250));
        status = (await world.run(["status"])).stdout;
      }
      assert.match(status, partial);
      const r = await world.run(["dispatch", "who serves me?", "--to", "hub"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Started this machine's worker in the background/);
      const id = ID.exec(r.stderr)?.[1];
      assert.ok(id, r.stderr);
      assert.match((await follow(world, id)).stdout, /main says: who serves me\?/);
    } finally {
      hand.child.kill("SIGTERM");
      await hand.exited;
      await world.run(["node", "stop-worker"]);
      await world.run(["nodes", "remove", "side", "--keep-running"]);
      await side.close();
    }
  });
});
