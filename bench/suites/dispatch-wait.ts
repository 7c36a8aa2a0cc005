/**
 * `clawos dispatch --wait` to a local node, the whole process, against `curl` streaming the
 * same request from the same stub gateway (issue 18). Fresh processes, interleaved, one warm-up
 * round; the federation is one local node (the stub) on a directory blackboard.
 *
 * Two stubs: one that answers at once (4 deltas, no delay: what is left is process start,
 * module loading, the probe, the board and the stream) and one that spaces its 4 deltas
 * --delay-ms apart, as a model does. Goal: ≤ 3× curl on the instant stub.
 *
 *   node dist/bench/suites/dispatch-wait.js [--runs 15] [--delay-ms 50]
 */
import { execFileSync } from "node:child_process";
import { runProcess } from "../../test/testkit/process.js";
import {
  BIN,
  benchArgs,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  makeHome,
  round,
  SUMMARY_HEADER,
  type Summary,
  spawnStub,
  summarize,
  summaryRow,
  table,
  timeProcess,
  track,
  verdict,
} from "../lib.js";

const values = benchArgs({
  runs: { type: "string", default: "15" },
  "delay-ms": { type: "string", default: "50" },
});
const RUNS = Number(values.runs);
const REPLY = "All checks passed on main; nothing else needs attention today.";
const TOKEN = "main-secret";

const curlPath = execFileSync("sh", ["-c", "command -v curl"], { encoding: "utf8" }).trim();
const home = await makeHome("clawos-bench-dispatch-wait-");
installCleanup(() => home.cleanup());

async function measure(delayMs: number): Promise<Record<string, Summary>> {
  const stub = await spawnStub({ token: TOKEN, reply: REPLY, ...(delayMs ? { chunkDelayMs: delayMs } : {}) });
  await home.writeProfile(null, stub.port, TOKEN);
  await home.writeFederation({
    version: 1,
    machine: "hub",
    blackboard: { driver: "directory", coordinator: "hub" },
    nodes: [{ id: "main", machine: "hub", port: stub.port, profile: null, token: { profile: true } }],
  });
  const body = JSON.stringify({
    model: "openclaw/main",
    stream: true,
    messages: [{ role: "user", content: "check the gateway" }],
  });
  const curl = [
    "-sS",
    "-N",
    "--fail",
    "-X",
    "POST",
    `http://127.0.0.1:${stub.port}/v1/chat/completions`,
    "-H",
    `authorization: Bearer ${TOKEN}`,
    "-H",
    "content-type: application/json",
    "-H",
    "accept: text/event-stream",
    "--data-binary",
    body,
  ];
  const commands = {
    "node -e 0": () => timeProcess(["-e", "0"], { env: home.env }),
    curl: () => runProcess(curlPath, curl, { started: track }),
    "clawos dispatch --wait": () =>
      timeProcess([BIN, "dispatch", "--to", "main", "--wait", "check the gateway"], { env: home.env }),
  };
  const samples = new Map<string, number[]>(Object.keys(commands).map((k) => [k, []]));
  for (let r = -1; r < RUNS; r++) {
    for (const [label, run] of Object.entries(commands)) {
      const result = await run();
      if (result.code !== 0) throw new Error(`${label} exited ${result.code}:\n${result.stderr}`);
      const expected = label === "curl" ? "[DONE]" : label.startsWith("clawos") ? REPLY : "";
      if (!result.stdout.includes(expected))
        throw new Error(`${label} did not print the reply:\n${result.stdout}`);
      if (r >= 0) samples.get(label)!.push(result.ms);
    }
  }
  await stub.stop();
  return Object.fromEntries([...samples].map(([k, v]) => [k, summarize(v)]));
}

const instant = await measure(0);
const delayed = await measure(Number(values["delay-ms"]));
killChildren();
await home.cleanup();

const ratio = (s: Record<string, Summary>) => round(s["clawos dispatch --wait"]!.p50 / s.curl!.p50, 2);
console.log(`dispatch --wait, whole process, against curl on the same stub (${RUNS} runs, interleaved)\n`);
console.log(
  table([
    SUMMARY_HEADER,
    ...Object.entries(instant).map(([k, v]) => summaryRow(`${k} — stub answers at once`, v)),
    ...Object.entries(delayed).map(([k, v]) =>
      summaryRow(`${k} — 4 deltas ${values["delay-ms"]} ms apart`, v),
    ),
  ]),
);
console.log(
  `\ngoal dispatch --wait ≤ 3× curl: ${ratio(instant)}× at once ${verdict(ratio(instant) <= 3)}; ${ratio(delayed)}× with a model-like stub`,
);
emitResult({
  bench: "dispatch-wait",
  runs: RUNS,
  instant,
  delayed,
  delayMs: Number(values["delay-ms"]),
  ratio: ratio(instant),
  delayedRatio: ratio(delayed),
  curlP50Ms: instant.curl!.p50,
  dispatchP50Ms: instant["clawos dispatch --wait"]!.p50,
  met: ratio(instant) <= 3,
  machine: machineInfo(),
});
