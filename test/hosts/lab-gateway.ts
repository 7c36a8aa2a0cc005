/**
 * A host's OpenClaw gateway in the lab: the stub gateway (test/testkit) on the host's own
 * 127.0.0.1, answering "<model> says: <prompt>", so a reply shows which machine's model wrote
 * it. Every chat turn is appended to `--requests` (one JSON line: task user, prompt), which is
 * how the lab counts runs per task across hosts. A prompt containing `[slow N]` streams its
 * reply over about N ms, for the scenarios that need a task in flight.
 *   node lab-gateway.js --port 18789 --token-file F --model NAME --requests FILE
 */
import { appendFileSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startStubGateway } from "../testkit/stub-gateway.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "18789" },
    "token-file": { type: "string" },
    model: { type: "string", default: "model" },
    requests: { type: "string" },
  },
});

const token = values["token-file"] ? readFileSync(values["token-file"], "utf8").trim() : undefined;
const SLOW = /\[slow (\d+)\]/;
const DELTAS = 20;

// The stub reads its chunk delay per chunk, after asking for the reply: a slow prompt sets it
// for its own turn. The lab never overlaps a slow turn with another on one gateway.
const gateway = await startStubGateway({
  port: Number(values.port),
  token,
  deltas: DELTAS,
  reply: (prompt) => {
    const slow = SLOW.exec(prompt);
    gateway.configure({ chunkDelayMs: slow ? Math.round(Number(slow[1]) / DELTAS) : 0 });
    const user = gateway.requests.findLast((r) => r.prompt === prompt)?.user;
    if (values.requests)
      appendFileSync(values.requests, `${JSON.stringify({ user, prompt, at: Date.now() })}\n`);
    return `${values.model} says: ${prompt}`;
  },
});

process.stdout.write(`${JSON.stringify({ port: gateway.port })}\n`);
const stop = () => {
  gateway.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
