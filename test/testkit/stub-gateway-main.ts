/**
 * The stub gateway as its own process, for tests and benchmarks that spawn gateways:
 *   node dist/test/support/stub-gateway-main.js --port 0 --token T [--reply TEXT]
 *     [--chunk-delay-ms N] [--agents main,alpha] [--mode MODE]
 * Prints one line `{"port":N}` once listening; exits 0 on SIGTERM or SIGINT.
 */
import { parseArgs } from "node:util";
import { STUB_MODES, type StubMode, startStubGateway } from "./stub-gateway.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    token: { type: "string" },
    reply: { type: "string" },
    "chunk-delay-ms": { type: "string", default: "0" },
    agents: { type: "string", default: "main" },
    mode: { type: "string", default: "ok" },
  },
});

const mode = values.mode as StubMode;
if (!STUB_MODES.includes(mode)) {
  process.stderr.write(`unknown --mode ${values.mode}; one of ${STUB_MODES.join(", ")}\n`);
  process.exit(2);
}

const gateway = await startStubGateway({
  port: Number(values.port),
  token: values.token,
  reply: values.reply,
  chunkDelayMs: Number(values["chunk-delay-ms"]),
  agents: values.agents
    .split(",")
    .map((agent) => agent.trim())
    .filter(Boolean),
  mode,
});
process.stdout.write(`${JSON.stringify({ port: gateway.port })}\n`);

const stop = () => {
  gateway.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
