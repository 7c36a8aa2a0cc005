/**
 * The seed's story, run in each blackboard set-up. Each scenario dispatches through the real
 * CLI on the hub, asserts what a user would check, and leaves its tasks in a Ledger for the
 * verdict (completed exactly once, on the right node).
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Host } from "./host.js";
import type { Lab } from "./lab.js";
import { MODEL_BASE_URL, MODEL_ID, modelSays, offlineSettings } from "./lab-openclaw.js";
import type { Ledger } from "./ledger.js";
import { CLOUD, cloudNode, HUB, LAPTOP, worker as workerOf } from "./recipe.js";

export interface Scenario {
  name: string;
  /** Runs the real OpenClaw gateway (the others use the stub gateway, for speed). */
  realOpenClaw?: boolean;
  run(lab: Lab, ledger: Ledger): Promise<void>;
}

interface NodeJson {
  id: string;
  machine: string;
  status: string;
  transport: string;
}

async function nodesOn(host: Host): Promise<NodeJson[]> {
  return (await host.clawosJson<{ nodes: NodeJson[] }>(["status"])).nodes;
}

/** Polls `status` on `host` until node `id` has `status`. */
async function waitNodeStatus(host: Host, id: string, status: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const node = (await nodesOn(host)).find((n) => n.id === id);
    if (node?.status === status) return;
    if (Date.now() > deadline) {
      throw new Error(`${host.name} never saw ${id} ${status} (last: ${node?.status ?? "absent"})`);
    }
    await sleep(500);
  }
}

const PICKUP_TASKS = 12;

/** The laptop joins; the hub sees its node; tasks dispatched on the hub run there with its model's words; the laptop sees the same task. */
export const joinAndDispatch: Scenario = {
  name: "join + cross-host task",
  async run(lab, ledger) {
    const { hub, laptop } = lab;
    await lab.join(laptop);
    lab.startWorker(hub);
    await lab.workers.get(hub)!.waitFor("worker started", 60_000);
    lab.startWorker(laptop);
    await lab.workers.get(laptop)!.waitFor("worker started", 60_000);
    await lab.settle();
    const seen = (await nodesOn(hub)).find((n) => n.id === LAPTOP);
    assert.ok(seen, "the hub lists the laptop's node");
    assert.equal(seen.transport, "blackboard");
    await waitNodeStatus(hub, LAPTOP, "online");

    const first = await hub.run([
      "clawos",
      "dispatch",
      "say hello from the laptop",
      "--to",
      LAPTOP,
      "--wait",
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), `${LAPTOP}'s model says: say hello from the laptop`);
    assert.match(first.stderr, /via blackboard/);

    for (let i = 0; i < PICKUP_TASKS; i++) {
      await ledger.dispatch(hub, `pickup ${i}`, LAPTOP, { node: LAPTOP, crossHost: true });
      await sleep(lab.kind === "nats" ? 150 : 700);
    }
    await ledger.waitFinished(90_000);
    await lab.settle();
    const one = ledger.expected[0]!.id;
    const onHub = await ledger.show(one);
    const onLaptop = await ledger.show(one, laptop);
    assert.equal(onHub.reply, `${LAPTOP}'s model says: pickup 0`);
    assert.deepEqual(
      [onLaptop.state, onLaptop.node, onLaptop.reply],
      [onHub.state, onHub.node, onHub.reply],
      "the laptop's control center shows the same task",
    );
    const laptopView = await laptop.clawosJson<{ tasks: { id: string }[] }>(["status"]);
    assert.ok(
      laptopView.tasks.some((t) => t.id === one),
      "the laptop's status lists the task",
    );
  },
};

/** Waits until each of `ids` has `state` on the hub. */
async function waitState(ledger: Ledger, ids: string[], state: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tasks = await ledger.list();
    const off = ids.filter((id) => tasks.get(id)?.state !== state);
    if (off.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`never ${state}: ${off.map((id) => `${id} ${tasks.get(id)?.state}`).join(", ")}`);
    await sleep(500);
  }
}

/** A task `node` completed earlier (on the hub's view). */
async function finishedTaskOf(ledger: Ledger, node: string): Promise<string> {
  const done = [...(await ledger.list()).values()].find((t) => t.node === node && t.state === "completed");
  assert.ok(done, `no completed task of ${node} yet`);
  return done.id;
}

/** `clawos dispatch … --wait` on `host`: the reply, the route line and the task id. */
async function dispatchWait(host: Host, text: string, args: string[]) {
  const r = await host.run(["clawos", "dispatch", text, ...args, "--wait"]);
  assert.equal(r.code, 0, `dispatch ${text}: ${r.stderr}`);
  const id = /(req_[a-z0-9_]+) →/.exec(r.stderr)?.[1];
  assert.ok(id, r.stderr);
  return { id, reply: r.stdout.trim(), route: r.stderr };
}

/** How long a sleeping host must stay asleep for the hub to close its leaf connection (nats.ts PING). */
const NATS_DROP_MS = 10_000;

/** The laptop sleeps: its tasks wait, dispatch returns, `any` is served on the hub; on wake each waiting task runs exactly once. */
export const sleepWake: Scenario = {
  name: "laptop sleeps and wakes",
  async run(lab, ledger) {
    const { hub, laptop } = lab;
    const since = lab.nats?.logLength(laptop) ?? 0;
    laptop.sleep();
    const asleepAt = Date.now();
    try {
      const waiting: string[] = [];
      for (let i = 0; i < 4; i++) {
        const t = await ledger.dispatch(hub, `while you sleep ${i}`, LAPTOP, {
          node: LAPTOP,
          crossHost: false,
        });
        assert.equal(t.state, "pending", "dispatch returns; the task waits");
        waiting.push(t.id);
      }
      const served: string[] = [];
      for (let i = 0; i < 2; i++) {
        const t = await ledger.dispatch(hub, `anyone awake ${i}`, "any", {
          node: lab.hubNode,
          crossHost: false,
        });
        assert.equal(t.node, lab.hubNode, "any goes to a node that is awake");
        served.push(t.id);
      }
      await waitState(ledger, served, "completed");
      await sleep(3000);
      const tasks = await ledger.list();
      for (const id of waiting) assert.equal(tasks.get(id)?.state, "pending", `${id} waits for the laptop`);
    } finally {
      // Asleep long enough for the hub to drop the leaf (two missed pings, 2 s apart), as a
      // real sleep is: a shorter nap keeps the link, and the reconnection below never comes.
      if (lab.nats) await sleep(Math.max(0, NATS_DROP_MS - (Date.now() - asleepAt)));
      laptop.wake();
    }
    if (lab.nats) await lab.nats.leafConnected(laptop, since);
    await lab.syncthing?.waitConnected();
    await ledger.waitFinished(120_000);
  },
};

/** P0 reaches the laptop through SSH while its worker is stopped (the host is up). */
export const urgentOverSsh: Scenario = {
  name: "P0 over SSH, worker stopped",
  async run(lab, ledger) {
    const { hub, laptop } = lab;
    await lab.stopWorker(laptop);
    const r = await dispatchWait(hub, "urgent: are you there?", ["--to", LAPTOP, "--priority", "P0"]);
    ledger.expected.push({ id: r.id, node: LAPTOP, crossHost: false });
    assert.match(r.route, /via ssh/);
    assert.equal(r.reply, `${LAPTOP}'s model says: urgent: are you there?`);
    lab.startWorker(laptop);
    await lab.workers.get(laptop)!.waitFor("worker started");
  },
};

/** The hub is cut off while the laptop runs a task: after healing, nothing is lost or run twice. */
export const partition: Scenario = {
  name: "partition mid-task",
  async run(lab, ledger) {
    const { hub, laptop } = lab;
    await waitNodeStatus(hub, LAPTOP, "online");
    const worker = lab.workers.get(laptop)!;
    const long = await ledger.dispatch(hub, "a long job [slow 5000]", LAPTOP, {
      node: LAPTOP,
      crossHost: true,
    });
    await worker.waitFor(`claimed ${long.id}`, 60_000);
    const since = lab.nats?.logLength(laptop) ?? 0;
    const conflict = lab.syncthing ? await finishedTaskOf(ledger, LAPTOP) : undefined;
    hub.setLink(false);
    try {
      // Both sides change one finished task's file while apart: Syncthing keeps one and a conflict copy.
      if (conflict) await lab.rewriteOnEach(`done/${LAPTOP}/${conflict}.json`, [hub, laptop]);
      await ledger.dispatch(hub, "queued while cut off", LAPTOP, { node: LAPTOP, crossHost: false });
      const any = await ledger.dispatch(hub, "the hub alone", "any", { node: lab.hubNode, crossHost: false });
      assert.equal(any.node, lab.hubNode);
      // Long enough for the leaf to notice (two missed pings) and for the task to end on the laptop's side.
      await sleep(10_000);
    } finally {
      hub.setLink(true);
    }
    if (lab.nats) await lab.nats.leafConnected(laptop, since);
    await lab.syncthing?.waitConnected();
    await ledger.waitFinished(120_000);
    await lab.settle();
    // Every host lists each task once; no conflict copy is read as a task.
    for (const host of [hub, laptop]) {
      const listed = await ledger.list(host);
      const twice = [...listed.keys()].filter((k) => k.endsWith("#twice"));
      assert.deepEqual(twice, [], `${host.name} lists a task twice`);
    }
    if (lab.nats) ledger.note("the laptop's leaf server reconnected to the hub");
    if (conflict) {
      const copies = await lab.conflictCopies();
      assert.ok(copies > 0, "Syncthing made a conflict copy");
      for (const host of [hub, laptop]) {
        const listed = await ledger.list(host);
        assert.equal(listed.get(conflict)?.state, "completed", `${host.name}: the task behind the conflict`);
      }
      ledger.note(`Syncthing conflict copies in the folders: ${copies}, none read as a task`);
    }
  },
};

/**
 * The hub's worker, the coordinator, runs 5 minutes ahead (faketime): the laptop's lease
 * renewals look 5 minutes old to it, and a task that runs through several coordinator rounds
 * must keep its lease. The worker `clawos init` started on the hub keeps the real clock beside
 * it, so two coordinators of one machine on two wall clocks share its lease notes, as one
 * coordinator does across a wall-clock step. (The dispatching CLI keeps the real clock: a
 * heartbeat from a machine whose clock is behind the reader's looks stale, and the task would
 * take the SSH route.)
 */
export const clockSkew: Scenario = {
  name: "clock skew 5 min",
  async run(lab, ledger) {
    const { hub, laptop } = lab;
    await lab.stopWorker(hub);
    lab.startWorker(hub, "+5m");
    try {
      await lab.workers.get(hub)!.waitFor("worker started");
      const { worker } = await hub.clawosJson<{ worker: { kind?: string } }>(["status"]);
      assert.equal(worker.kind, "background", "the worker clawos init started runs beside it");
      await waitNodeStatus(hub, LAPTOP, "online");
      const t = await ledger.dispatch(hub, "take your time [slow 14000]", LAPTOP, {
        node: LAPTOP,
        crossHost: true,
      });
      await lab.workers.get(laptop)!.waitFor(`claimed ${t.id}`, 60_000);
      await ledger.waitFinished(90_000);
      const done = await ledger.show(t.id);
      const history = done.history.map((h) => `${h.event}: ${h.detail}`).join("; ");
      assert.equal(done.attempt, 1, `no lease expired: still the first attempt (history: ${history})`);
      assert.ok(!done.history.some((h) => /expired|requeue/.test(h.event)), `history: ${history}`);
      assert.doesNotMatch(lab.workers.get(hub)!.output(), new RegExp(`lease of ${t.id}`));
    } finally {
      await lab.stopWorker(hub);
      lab.startWorker(hub);
      await lab.workers.get(hub)!.waitFor("worker started");
    }
  },
};

// 120 from the hub's gateway on 18789: OpenClaw's spacing, which incubate enforces.
const CLOUD_PORT = 18909;
// A real gateway's start and first turn take minutes on a busy 2-core machine: its start
// (clawos's --ready-timeout, 180 s by default) and the whole step get more time here.
const READY_TIMEOUT = ["--ready-timeout", "420"];
const REAL_GATEWAY_MS = 15 * 60_000;

// OpenClaw 2026.9.6 gives its state-lease worker a fixed 5 s to start; on a CPU-starved
// machine a gateway sometimes dies of it at start. clawos then undoes the step (the registry
// and disk as they were), so the step runs again, and the report says so. clawos's error
// names the first failing check (often a migration step the timeout blocked): the gateway's
// log, which clawos keeps in <home>/logs/<node>-gateway.log, says why.
const STARVED_START = /state lease heartbeat did not become ready/;
const ATTEMPTS = 3;

/** Every gateway log clawos keeps on `hosts`, by path. */
async function gatewayLogs(hosts: readonly Host[]): Promise<Map<string, string>> {
  const logs = new Map<string, string>();
  for (const host of hosts) {
    const dir = join(host.clawosHome, "logs");
    for (const name of (await readdir(dir).catch(() => [] as string[])).filter((n) =>
      n.endsWith("-gateway.log"),
    ))
      logs.set(join(dir, name), await readFile(join(dir, name), "utf8").catch(() => ""));
  }
  return logs;
}

/** `clawos ARGS` on the hub under a real gateway's time limit; the time it took goes in the report. */
async function timed(lab: Lab, ledger: Ledger, what: string, args: string[]): Promise<void> {
  const host = lab.hub;
  for (let attempt = 1; ; attempt++) {
    const begun = performance.now();
    const before = await gatewayLogs([lab.hub, lab.cloud]);
    const r = await host.run(["clawos", ...args], { timeoutMs: REAL_GATEWAY_MS });
    const seconds = ((performance.now() - begun) / 1000).toFixed(0);
    if (r.code === 0) {
      // What clawos itself measured of the gateway (its first turn), when it says.
      const turn = /(answered a first turn in [^.]+\.\d+ m?s|a real turn took [^)]+)/.exec(r.stdout)?.[1];
      ledger.note(`${what}: ${seconds} s${turn ? ` (${turn})` : ""}`);
      return;
    }
    const failure = `${host.name}: clawos ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`;
    const logged = [...(await gatewayLogs([lab.hub, lab.cloud]))]
      .map(([path, text]) => text.slice(before.get(path)?.length ?? 0))
      .join("\n");
    if (attempt >= ATTEMPTS || !STARVED_START.test(`${r.stderr}\n${logged}`)) throw new Error(failure);
    ledger.note(
      `${what}: attempt ${attempt} failed after ${seconds} s (OpenClaw's 5 s state-lease start timeout, CPU starved); clawos undid it; again`,
    );
  }
}

/**
 * The cloud node, on the real OpenClaw: planned on the hub, incubated there, migrated to the
 * cloud over SSH (its `openclaw backup` archive), a task runs there through SSH and one through
 * the cloud's worker, then rolled back. Each reply is the fake model's sentence, which only a
 * real gateway calling its model server writes.
 */
export const cloudMigration: Scenario = {
  name: "cloud node: plan, incubate, migrate, rollback",
  realOpenClaw: true,
  async run(lab, ledger) {
    const { hub, cloud } = lab;
    await hub.clawos(cloudNode.plan);
    const planned = (await nodesOn(hub)).find((n) => n.id === cloudNode.id);
    assert.equal(planned?.status, "planned");
    const model = { baseUrl: MODEL_BASE_URL, id: MODEL_ID };
    const offline = offlineSettings(join(lab.root, "openclaw-cloud-node.log"));
    await timed(lab, ledger, "real gateway: incubate --start (onboard, start, first turn)", [
      ...cloudNode.incubate(CLOUD_PORT, model),
      ...offline,
      ...READY_TIMEOUT,
    ]);
    const here = await dispatchWait(hub, "hello, say hub", ["--to", cloudNode.id]);
    ledger.expected.push({ id: here.id, node: cloudNode.id, crossHost: false, runs: 0 });
    assert.equal(here.reply, modelSays("hello, say hub"));

    await timed(lab, ledger, "real gateway: migrate to the cloud (archive, restore, start, turn)", [
      ...cloudNode.migrate(`root@${cloud.address}:22`),
      ...READY_TIMEOUT,
    ]);
    const hubGateway = await hub.run([
      "curl",
      "-s",
      "-o",
      "/dev/null",
      `http://127.0.0.1:${CLOUD_PORT}/health`,
    ]);
    assert.notEqual(hubGateway.code, 0, "the hub's gateway of the node is stopped");
    const cloudGateway = await cloud.run(["curl", "-sf", `http://127.0.0.1:${CLOUD_PORT}/health`]);
    assert.equal(cloudGateway.code, 0, "the node's gateway runs on the cloud");
    const there = await dispatchWait(hub, "now say cloud", ["--to", cloudNode.id]);
    ledger.expected.push({ id: there.id, node: cloudNode.id, crossHost: false, runs: 0 });
    assert.match(there.route, /via ssh/);
    assert.equal(there.reply, modelSays("now say cloud"));

    // Its worker there (the blackboard route): the cloud machine joins, which takes the node over.
    await lab.join(cloud);
    const owned = (await nodesOn(cloud)).find((n) => n.id === cloudNode.id);
    assert.equal(owned?.machine, CLOUD, "the cloud machine owns the node after joining");
    const worker = cloud.start("worker", ["clawos", ...workerOf(), "--node", cloudNode.id]);
    await worker.waitFor("worker started");
    await lab.settle();
    await waitNodeStatus(hub, cloudNode.id, "online");
    const viaBoard = await ledger.dispatch(hub, "run on the cloud's worker", cloudNode.id, {
      node: cloudNode.id,
      crossHost: true,
      runs: 0,
    });
    await worker.waitFor(`${viaBoard.id} completed`, 180_000);
    await worker.stop();
    await lab.settle();
    assert.equal((await ledger.show(viaBoard.id)).reply, modelSays("run on the cloud's worker"));
    // Its gateway keeps running there: the rollback stops it once the hub's copy runs again.
    await cloud.clawos(["nodes", "remove", cloudNode.id, "--keep-running"]);

    await timed(lab, ledger, "real gateway: rollback (archive there, restore, start here)", [
      ...cloudNode.rollback,
      ...READY_TIMEOUT,
    ]);
    // As a user would: `status` shows it back before a task goes to it. A gateway that has just
    // started can be busy past dispatch's 3 s health probe on a starved CPU (then the task would
    // wait in its inbox instead of going over localhost).
    await waitNodeStatus(hub, cloudNode.id, "online", 120_000);
    const back = await dispatchWait(hub, "home again", ["--to", cloudNode.id]);
    ledger.expected.push({ id: back.id, node: cloudNode.id, crossHost: false, runs: 0 });
    assert.match(back.route, /via localhost/);
    assert.equal(back.reply, modelSays("home again"));
    assert.equal((await nodesOn(hub)).find((n) => n.id === cloudNode.id)?.machine, HUB);
    // Each task was one turn, on the model server of the host its gateway ran on.
    const turns = {
      [hub.name]: await lab.openclaw!.turnsOn(hub),
      [cloud.name]: await lab.openclaw!.turnsOn(cloud),
    };
    for (const [prompt, host] of [
      ["hello, say hub", hub],
      ["now say cloud", cloud],
      ["run on the cloud's worker", cloud],
      ["home again", hub],
    ] as const) {
      for (const asked of [hub, cloud]) {
        const count = turns[asked.name]!.filter((t) => t.includes(prompt)).length;
        assert.equal(
          count,
          asked === host ? 1 : 0,
          `${asked.name}'s model server got "${prompt}" ${count} times`,
        );
      }
    }
  },
};

export const SCENARIOS: Scenario[] = [
  joinAndDispatch,
  sleepWake,
  urgentOverSsh,
  partition,
  clockSkew,
  cloudMigration,
];
