/**
 * A runnable control center over the fake federation, on the real process
 * stdin/stdout: what the pseudo-terminal tests drive.
 *
 * Environment:
 *   FAKE_EMPTY=1          start with no nodes (first run)
 *   FAKE_READONLY=1       --readonly
 *   FAKE_KEYS='{"quit":"Q"}'  key rebinding, as JSON
 *   FAKE_STREAM_MS=N      interval between streamed reply chunks (default 80)
 */
import { runTui } from "../../source/ui/run-tui.js";
import { FakeFederation, seedNodes, seedTasks } from "./fake-federation.js";

const empty = process.env.FAKE_EMPTY === "1";
const fake = new FakeFederation({
  nodes: empty ? [] : seedNodes(),
  tasks: empty ? [] : seedTasks(),
  discoverFinds: ["main", "alpha"],
  streamReply: ["Hello ", "from ", "the ", "fake ", "gateway: ", "STREAMED-REPLY-END"],
  streamIntervalMs: Number(process.env.FAKE_STREAM_MS ?? 80),
});

const keys = process.env.FAKE_KEYS
  ? (JSON.parse(process.env.FAKE_KEYS) as Record<string, string | string[]>)
  : undefined;

try {
  await runTui(fake, {
    stdin: process.stdin,
    stdout: process.stdout,
    readonly: process.env.FAKE_READONLY === "1",
    ...(keys ? { keys } : {}),
    title: "ClawOS Federation (fake)",
  });
  await fake.close();
  process.stdout.write("TUI-EXITED-CLEANLY\n");
  process.exit(0);
} catch (error) {
  await fake.close();
  process.stderr.write(`TUI-FAILED ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
}
