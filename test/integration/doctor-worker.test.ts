/**
 * `clawos doctor` reports this machine's worker as `findWorker` (and so `ensureWorker`,
 * `status` and the control center) sees it, and never says "All good." while tasks for this
 * machine's nodes would wait for want of one.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

interface Check {
  area: string;
  level: string;
  message: string;
  fix?: string;
}

let world: World;
let gateway: StubGateway;

async function workerCheck(): Promise<Check | undefined> {
  const r = await world.run(["doctor", "--json"]);
  return (JSON.parse(r.stdout) as Check[]).find((c) => c.area === "worker");
}

before(async () => {
  world = await makeWorld(); // the automatic start is off: no worker runs yet
  gateway = await startStubGateway({ token: "t" });
  await world.writeProfile(null, profileConfig(gateway.port, "t"));
  assert.equal((await world.run(["init"])).code, 0);
});
after(async () => {
  await gateway.close();
  await world.cleanup();
});

test("no worker: a warning with the command that starts one, and no 'All good.'", async () => {
  const r = await world.run(["doctor"]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /All good\./);
  assert.match(
    r.stdout,
    /warn {2}worker +no worker runs for this machine's 1 node \(hub\): tasks sent to it would wait/,
  );
  assert.match(r.stdout, /fix: clawos node run \(the automatic start is off/);
});

test("tasks already waiting are counted", async () => {
  // Its gateway down, the task waits in the inbox; then the gateway is back, the worker still missing.
  const port = gateway.port;
  await gateway.close();
  const d = await world.run(["dispatch", "for later", "--to", "hub"]);
  assert.equal(d.code, 0, d.stderr);
  gateway = await startStubGateway({ port, token: "t" });
  const check = await workerCheck();
  assert.equal(check?.level, "warn");
  assert.match(
    check?.message ?? "",
    /no worker runs for this machine's 1 node \(hub\): 1 task waits in its inbox/,
  );
  const r = await world.run(["doctor"]);
  assert.doesNotMatch(r.stdout, /All good\./);
});

test("once a command has started the worker, doctor names it with its pid", async () => {
  const retry = await world.run(["dispatch", "now", "--to", "hub"], {
    env: { CLAWOS_WORKER_AUTOSTART: "1" },
  });
  assert.match(retry.stderr, /Started this machine's worker in the background \(pid (\d+)/);
  const pid = /pid (\d+)/.exec(retry.stderr)?.[1];
  const check = await workerCheck();
  assert.equal(check?.level, "ok");
  assert.match(check?.message ?? "", new RegExp(`worker runs in the background .*pid ${pid}`));
});
