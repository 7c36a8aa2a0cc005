/**
 * A worker in its own process for the NATS tests, working until the test SIGKILLs it.
 *
 *   node nats-worker-child.js <nats://host:port> <node> <renew every ms>
 *     claims one task of <node>, reports progress, keeps renewing its lease, prints
 *     {"id","attempt","handle"} and then works "forever".
 *   node nats-worker-child.js <nats://host:port> <node> 0 <lanes> <work ms>
 *     runs <lanes> claim → work → complete loops at once, as a busy worker does (claims that
 *     come this fast make its handle fetch doorbells ahead), printing {"done": id} after
 *     each completion the blackboard accepted.
 */
import { NatsBlackboard } from "../../../source/core/blackboard/nats/nats.js";

const [url, node, renewMs, lanes, workMs] = process.argv.slice(2);
if (!url || !node || !renewMs) {
  process.stderr.write(
    "usage: nats-worker-child <nats://host:port> <node> <renew every ms> | 0 <lanes> <work ms>\n",
  );
  process.exit(2);
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bb = new NatsBlackboard({ servers: [url] });
await bb.init();

if (lanes) {
  const lane = async () => {
    for (;;) {
      const claim = await bb.claim(node);
      if (!claim) {
        await sleep(20);
        continue;
      }
      await sleep(Number(workMs));
      const { id, attempt } = claim.request;
      const result = {
        schema: "clawos.result/1" as const,
        id,
        attempt,
        node,
        status: "completed" as const,
        text: "done by the worker that died",
        finishedAt: new Date().toISOString(),
      };
      if (await bb.complete(claim, result)) process.stdout.write(`${JSON.stringify({ done: id })}\n`);
    }
  };
  await Promise.all(Array.from({ length: Number(lanes) }, lane));
}

let claim = await bb.claim(node);
while (!claim) {
  await sleep(20);
  claim = await bb.claim(node);
}
const held = claim;
await bb.progress(held, "half an answer from the worker that is about to die", new Date().toISOString());
setInterval(() => void bb.renew(held), Number(renewMs));
process.stdout.write(
  `${JSON.stringify({ id: held.request.id, attempt: held.request.attempt, handle: held.handle })}\n`,
);
