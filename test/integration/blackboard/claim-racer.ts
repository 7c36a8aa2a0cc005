/**
 * A claimer in its own process, for the contract's "one winner per task" race.
 *
 *   node claim-racer.js <blackboard dir | nats://host:port> <node>
 *
 * Prints "ready", waits for a line on stdin (so every racer starts at once), then claims
 * and completes tasks of <node> until none are left, and prints {"won":[ids…]}.
 */
import { createInterface } from "node:readline";
import { DirectoryBlackboard } from "../../../source/core/blackboard/directory/directory.js";
import type { Blackboard } from "../../../source/core/blackboard/types.js";

const [root, node] = process.argv.slice(2);
if (!root || !node) {
  process.stderr.write("usage: claim-racer <blackboard dir | nats://host:port> <node>\n");
  process.exit(2);
}

// The NATS client is loaded only when asked for, so directory racers start as fast as before.
const bb: Blackboard = root.startsWith("nats://")
  ? new (await import("../../../source/core/blackboard/nats/nats.js")).NatsBlackboard({ servers: [root] })
  : new DirectoryBlackboard(root);
await bb.init();
const lines = createInterface({ input: process.stdin });
const go = new Promise<void>((resolve) => lines.once("line", () => resolve()));
process.stdout.write("ready\n");
await go;
lines.close();

const won: string[] = [];
for (;;) {
  const claim = await bb.claim(node);
  if (!claim) {
    if ((await bb.pendingIds(node)).length === 0) break;
    continue;
  }
  won.push(claim.request.id);
  const ok = await bb.complete(claim, {
    schema: "clawos.result/1",
    id: claim.request.id,
    attempt: claim.request.attempt,
    node: claim.node,
    status: "completed",
    text: `won by process ${process.pid}`,
    finishedAt: new Date().toISOString(),
  });
  if (!ok) throw new Error(`completion of ${claim.request.id} was refused`);
}
await bb.close();
process.stdout.write(`${JSON.stringify({ won })}\n`);
