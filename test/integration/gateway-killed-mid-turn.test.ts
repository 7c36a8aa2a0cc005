/**
 * The gateway stops in the middle of a `dispatch --wait` turn while this machine's worker runs
 * (started by `init`, as a new user has it). The turn that broke counts as one attempt; the
 * worker, whose last probe still said "up", may claim the task at once, but its refused turn
 * keeps the attempt and the worker waits for the gateway. When the gateway is back the task
 * completes on its second attempt, and the dispatch that waited prints the reply.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const ID = /(req_\d{8}_\d{6}_[0-9a-f]{8})/;
let world: World;
let stub: StubGateway | undefined;

before(async () => {
  world = await makeWorld();
  delete world.env.CLAWOS_WORKER_AUTOSTART; // a new user's defaults: init starts the worker
  stub = await startStubGateway({ token: "t", reply: (p) => `back: ${p}` });
  await world.writeProfile(null, profileConfig(stub.port, "t"));
  const init = await world.run(["init"]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stderr, /Started this machine's worker in the background/);
});
after(async () => {
  await stub?.close();
  await world.cleanup();
});

test("a gateway killed mid-turn costs one attempt, not all of them; the waiting dispatch gets the reply", async () => {
  assert.ok(stub);
  const port = stub.port;
  stub.configure({ mode: "slow", slowUntil: new Promise(() => {}) }); // the turn never ends by itself
  const dispatch = world.spawn(["dispatch", "a long story", "--to", "hub", "--wait"]);
  await dispatch.waitFor(/→ hub via localhost/);
  while (!stub.requests.some((q) => q.prompt === "a long story")) await new Promise((r) => setTimeout(r, 20));
  await stub.close(); // killed, its connections with it
  stub = undefined;
  const id = ID.exec(dispatch.output())?.[1];
  assert.ok(id, dispatch.output());
  // The worker hears of the task at once (its probe is seconds old and said "up"): give it the
  // moment it needs to claim the task, find the gateway gone and hand the task back.
  const log = join(world.clawosHome, "logs", "worker.log");
  const show = async () =>
    JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as {
      state: string;
      attempt: number;
    };
  let shown = await show();
  for (let i = 0; i < 30; i++) {
    const handedBack = new RegExp(`${id} did not start`).test(await readFile(log, "utf8"));
    if (handedBack && shown.state === "pending") break;
    await new Promise((r) => setTimeout(r, 100));
    shown = await show();
  }
  assert.equal(shown.state, "pending");
  assert.equal(shown.attempt, 2, "the broken turn counted once; a refused one does not count");

  stub = await startStubGateway({ port, token: "t", reply: (p) => `back: ${p}` });
  assert.equal(await dispatch.exited, 0, dispatch.output());
  assert.match(dispatch.output(), /back: a long story\n/, "the reply, ended with a newline");
  // It said what happened while it waited, whether or not the worker had the task again by then:
  // the broken turn (attempt 1), or, when the worker's refused try was the last word, that one,
  // which kept the attempt. Either way the task waits at attempt 2 of 3.
  assert.match(
    dispatch.output(),
    /(is waiting in|went back to) hub's inbox \(attempt 2\/3\) after: attempt (1 on hub|2 on hub did not start \(attempt kept\))/,
  );
  const done = await show();
  assert.equal(done.state, "completed");
  assert.equal(done.attempt, 2);
});
