/**
 * The seed's story, run in each blackboard set-up. Each scenario dispatches through the real
 * CLI on the hub, asserts what a user would check, and leaves its tasks in a Ledger for the
 * verdict (completed exactly once, on the right node).
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { Host } from "./host.js";
import type { Lab } from "./lab.js";
import type { Ledger } from "./ledger.js";
import { LAPTOP } from "./recipe.js";

export interface Scenario {
  name: string;
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

export const SCENARIOS: Scenario[] = [joinAndDispatch];
