/**
 * `npm run demo:gateway -- NAME`: serve the stub gateway (answers "echo: <text>") on the
 * port and token of the OpenClaw profile ~/.openclaw-NAME, so a new user can try
 * clawos without OpenClaw. Stops on Ctrl+C / SIGTERM, and when the process that started it
 * (npm) ends.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import JSON5 from "json5";
import { startStubGateway } from "./stub-gateway.js";

const name = process.argv[2];
const dir = join(process.env.HOME || homedir(), name && name !== "main" ? `.openclaw-${name}` : ".openclaw");
let config: { gateway?: { port?: number; auth?: { token?: string } } };
try {
  config = JSON5.parse(await readFile(join(dir, "openclaw.json"), "utf8"));
} catch {
  process.stderr.write(
    `demo gateway: no ${join(dir, "openclaw.json")}; make one with: npx clawos incubate ${name ?? "demo"} --config-only\n`,
  );
  process.exit(2);
}
const port = config.gateway?.port ?? 18789;
const gateway = await startStubGateway({
  port,
  token: config.gateway?.auth?.token,
  deltas: 6,
  chunkDelayMs: 60,
});
process.stdout.write(
  `demo gateway for ${name ?? "main"} on 127.0.0.1:${gateway.port} (it answers "echo: <your text>")\n`,
);
// An open keep-alive connection can hold close() up: exit after a second in any case.
const stop = () => {
  setTimeout(() => process.exit(0), 1000).unref();
  void gateway.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
// Started through `npm run … &`, a shell's `kill %1` stops npm, not this process: once the
// parent is gone (this process was handed to another), stop too rather than hold the port.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 500);
