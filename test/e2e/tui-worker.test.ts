import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, makeWorld, profileConfig, type World, workerPids } from "../testkit/cli-harness.js";
import { type PtySession, spawnInPty } from "../testkit/pty-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

/** The control center, opened where no worker runs, starts one and shows it in its title bar. */
describe("clawos tui starts this machine's worker", () => {
  let world: World;
  let gateway: StubGateway;
  let pty: PtySession | undefined;

  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({ token: "alpha-secret" });
    await world.writeProfile("alpha", profileConfig(gateway.port, "alpha-secret"));
    assert.equal((await world.run(["init"])).code, 0); // automatic start off here (the harness)
    delete world.env.CLAWOS_WORKER_AUTOSTART;
  });
  after(async () => {
    pty?.dispose();
    await gateway.close();
    await world.cleanup();
  });

  test("the title bar shows the worker it started; quitting says so once, and the worker stays", async () => {
    assert.deepEqual(await workerPids(world.clawosHome), []);
    pty = spawnInPty(process.execPath, [BIN, "tui"], {
      cols: 120,
      rows: 30,
      env: { ...world.env, CI: "true", NO_COLOR: "1" },
      timeoutMs: 30_000,
    });
    await pty.waitForText(/alpha\s+online/);
    const title = await pty.waitForText(/worker: background \d+/);
    const pid = Number(/worker: background (\d+)/.exec(title)?.[1]);
    assert.deepEqual(await workerPids(world.clawosHome), [pid]);

    // A task dispatched here is the worker's to run: its log names it, and the reply shows here.
    pty.write("d");
    await pty.waitForText("Dispatch a task");
    pty.write("hello worker\r");
    await pty.waitForText("echo: hello worker");
    assert.match(pty.screenText(), /claimed +attempt 1 by the worker on hub \(pid \d+\)/);
    const id = /(req_\d{8}_\d{6}_[0-9a-f]{8})/.exec(pty.screenText())?.[1];
    assert.ok(id, pty.screenText());
    const ran = new RegExp(`alpha: ${id} completed`);
    let log = "";
    for (let i = 0; i < 50 && !ran.test(log); i++) {
      if (i) await new Promise((r) => setTimeout(r, 200));
      log = await readFile(join(world.clawosHome, "logs", "worker.log"), "utf8");
    }
    assert.match(log, ran);

    // A worker stopped while the control center is open is started again by the next dispatch.
    assert.equal((await world.run(["node", "stop-worker"])).code, 0);
    assert.deepEqual(await workerPids(world.clawosHome), []);
    pty.write("d");
    await pty.waitForText("Dispatch a task");
    pty.write("once more\r");
    await pty.waitForText("echo: once more");
    const [again] = await workerPids(world.clawosHome);
    assert.ok(again !== undefined && again !== pid, `a new worker, not ${pid}`);

    pty.write("q");
    await pty.waitForExit();
    const said = pty.output().match(/Started this machine's worker in the background \(pid \d+/g) ?? [];
    assert.deepEqual(said, [`Started this machine's worker in the background (pid ${pid}`]);
    assert.deepEqual(await workerPids(world.clawosHome), [again], "it outlives the control center");
  });
});
