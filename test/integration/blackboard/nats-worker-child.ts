/**
 * A worker in its own process for the NATS tests: claims one task of <node>, reports
 * progress, keeps renewing its lease, prints {"id","attempt","handle"} and then works
 * "forever" — until the test SIGKILLs it mid-task.
 *
 *   node nats-worker-child.js <nats://host:port> <node> <renew every ms>
 */
import { NatsBlackboard } from "../../../source/core/blackboard/nats/nats.js";

const [url, node, renewMs] = process.argv.slice(2);
if (!url || !node || !renewMs) {
  process.stderr.write("usage: nats-worker-child <nats://host:port> <node> <renew every ms>\n");
  process.exit(2);
}
const bb = new NatsBlackboard({ servers: [url] });
await bb.init();
let claim = await bb.claim(node);
while (!claim) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  claim = await bb.claim(node);
}
const held = claim;
await bb.progress(held, "half an answer from the worker that is about to die", new Date().toISOString());
setInterval(() => void bb.renew(held), Number(renewMs));
process.stdout.write(
  `${JSON.stringify({ id: held.request.id, attempt: held.request.attempt, handle: held.handle })}\n`,
);
