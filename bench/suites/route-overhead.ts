/**
 * Benchmark 1 — localhost route overhead.
 *
 * One stub gateway process on 127.0.0.1; in this process, round-robin and interleaved:
 *   bare-undici     undici Pool.request, streamed SSE parsed by hand (the floor)
 *   bare-fetch      global fetch, streamed SSE parsed by hand
 *   gateway-client  clawos GatewayClient.chat (validation, SSE parser, error mapping)
 *   dispatch        FederationCore.dispatch({to: "main"}) then `await run`: routing, probe
 *                   cache, blackboard publish (fsync), progress record, fenced completion
 * Reports p50/p95 of each and dispatch minus bare-undici. Goal: ≤ 2 ms added at p50.
 * A breakdown pass then times dispatch's steps one by one.
 *
 *   node dist/bench/suites/route-overhead.js [--iterations 300] [--warmup 50] [--breakdown 100] [--prefill 0]
 */
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { Pool } from "undici";
import type { Claim } from "../../source/core/blackboard/types.js";
import { newTaskId } from "../../source/core/domain/ids.js";
import type { TaskRequest } from "../../source/core/domain/schema.js";
import { FederationCore } from "../../source/core/federation/federation.js";
import {
  benchArgs,
  emitResult,
  installCleanup,
  killChildren,
  machineInfo,
  makeHome,
  round,
  SUMMARY_HEADER,
  spawnStub,
  summarize,
  summaryRow,
  table,
  verdict,
} from "../lib.js";

const values = benchArgs({
  iterations: { type: "string", default: "300" },
  warmup: { type: "string", default: "50" },
  breakdown: { type: "string", default: "100" },
  /** Seed this many finished tasks first: dispatch lists the finished history on every call. */
  prefill: { type: "string", default: "0" },
});
const ITERATIONS = Number(values.iterations);
const WARMUP = Number(values.warmup);
const BREAKDOWN = Number(values.breakdown);
const PREFILL = Number(values.prefill);
const TOKEN = "bench-token";
const PROMPT = "bench: summarise the state of the federation in one paragraph";
const REPLY =
  "All four nodes answered: alpha and mac-mini are online on localhost, macbook-air is asleep, " +
  "cloud-node is planned. Three tasks are pending, none is stuck, and the blackboard is healthy.";
const MODEL = "openclaw/main";

const home = await makeHome("clawos-bench-route-");
installCleanup(() => home.cleanup());
const stub = await spawnStub({ token: TOKEN, reply: REPLY });
await home.writeProfile(null, stub.port, TOKEN);
await home.writeFederation({
  version: 1,
  machine: "hub",
  blackboard: { driver: "directory", coordinator: "hub" },
  nodes: [{ id: "main", machine: "hub", port: stub.port, profile: null, token: { profile: true } }],
});
const core = await FederationCore.open(home.clawosHome, { env: home.env });
if (PREFILL > 0) {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < PREFILL; i = next++) {
      const at = new Date(Date.now() - (i + 1) * 61_000);
      const request = requestFor(newTaskId(at), at);
      const claim = await core.blackboard.enqueueClaimed(request);
      if (!claim) throw new Error(`duplicate id ${request.id}`);
      await core.blackboard.complete(claim, {
        schema: "clawos.result/1",
        id: request.id,
        attempt: 1,
        node: "main",
        status: "completed",
        text: REPLY,
        finishedAt: at.toISOString(),
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
}

function requestFor(id: string, now: Date): TaskRequest {
  return {
    schema: "clawos.task/1",
    id,
    target: "main",
    priority: "P2",
    text: PROMPT,
    tags: [],
    createdAt: now.toISOString(),
    createdBy: "hub",
    attempt: 1,
    maxAttempts: 3,
    route: { node: "main", transport: "localhost", reason: "bench", decidedAt: now.toISOString() },
    history: [],
  };
}
const origin = `http://127.0.0.1:${stub.port}`;
const pool = new Pool(origin, { connections: 8 });
const body = (user: string) =>
  JSON.stringify({ model: MODEL, messages: [{ role: "user", content: PROMPT }], user, stream: true });
const headers = {
  accept: "application/json, text/event-stream",
  "content-type": "application/json",
  authorization: `Bearer ${TOKEN}`,
};

/** Minimal SSE reader: split events, parse each chunk, join the deltas, stop at [DONE]. */
function sseReader() {
  let buffer = "";
  let text = "";
  let done = false;
  return {
    push(chunk: string) {
      buffer += chunk;
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        const parsed = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
        text += parsed.choices?.[0]?.delta?.content ?? "";
      }
    },
    result() {
      if (!done) throw new Error("stream ended without [DONE]");
      return text;
    },
  };
}

async function bareUndici(): Promise<string> {
  const response = await pool.request({
    origin,
    path: "/v1/chat/completions",
    method: "POST",
    headers,
    body: body("bench:bare"),
  });
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
  const reader = sseReader();
  response.body.setEncoding("utf8");
  for await (const chunk of response.body as AsyncIterable<string>) reader.push(chunk);
  return reader.result();
}

async function bareFetch(): Promise<string> {
  const response = await fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: body("bench:fetch"),
  });
  if (response.status !== 200 || !response.body) throw new Error(`HTTP ${response.status}`);
  const reader = sseReader();
  const decoder = new TextDecoder();
  for await (const chunk of response.body) reader.push(decoder.decode(chunk, { stream: true }));
  return reader.result();
}

const client = await core.gateway("main");
async function gatewayClient(): Promise<string> {
  return (await client.chat({ text: PROMPT, user: "bench:client" })).text;
}

async function dispatch(): Promise<string> {
  const dispatched = await core.dispatch({ text: PROMPT, to: "main", priority: "P2" });
  if (!dispatched.run) throw new Error(`not run here: ${dispatched.request.route.reason}`);
  const outcome = await dispatched.run;
  if (outcome.kind !== "completed") throw new Error(`dispatch ended ${outcome.kind}`);
  return outcome.result.text ?? "";
}

const arms = [
  { name: "bare-undici", run: bareUndici },
  { name: "bare-fetch", run: bareFetch },
  { name: "gateway-client", run: gatewayClient },
  { name: "dispatch", run: dispatch },
] as const;
const samples = new Map<string, number[]>(arms.map((a) => [a.name, []]));

// Sanity: every arm gets the same reply.
for (const arm of arms) {
  const text = await arm.run();
  if (text !== REPLY) throw new Error(`${arm.name} got ${JSON.stringify(text.slice(0, 80))}`);
}
for (let i = 0; i < WARMUP; i++) for (const arm of arms) await arm.run();
for (let i = 0; i < ITERATIONS; i++) {
  // Rotate the order so no arm always runs first (or after the same neighbour).
  for (let k = 0; k < arms.length; k++) {
    const arm = arms[(i + k) % arms.length]!;
    const started = performance.now();
    await arm.run();
    samples.get(arm.name)!.push(performance.now() - started);
  }
}
const stats = Object.fromEntries(arms.map((a) => [a.name, summarize(samples.get(a.name)!)]));
const bare = stats["bare-undici"]!;
const disp = stats.dispatch!;
const addedP50 = round(disp.p50 - bare.p50);
const addedP95 = round(disp.p95 - bare.p95);

// ── breakdown: dispatch's steps, one at a time (same core, same node) ────────
const steps = {
  "raw 1 KB write + fsync (reference)": [] as number[],
  "nodeViews(probe) incl. list+heartbeats": [] as number[],
  "  of which inFlightCounts → list(finishedLimit 0)": [] as number[],
  "enqueueClaimed (fsync + 2 links)": [] as number[],
  "progress write (no fsync; dispatch skips it for answers under 50 ms)": [] as number[],
  "GatewayClient.chat": [] as number[],
  "complete (fsync + link + rename)": [] as number[],
};
const bb = core.blackboard;
for (let i = 0; i < BREAKDOWN; i++) {
  let t = performance.now();
  const lap = (key: keyof typeof steps) => {
    const now = performance.now();
    steps[key].push(now - t);
    t = now;
  };
  const raw = await open(join(bb.location, "tmp", `bench-fsync-${i}.tmp`), "wx");
  await raw.writeFile("x".repeat(1024));
  await raw.sync();
  await raw.close();
  lap("raw 1 KB write + fsync (reference)");
  t = performance.now();
  await core.nodeViews({ probe: true });
  lap("nodeViews(probe) incl. list+heartbeats");
  await core.inFlightCounts();
  lap("  of which inFlightCounts → list(finishedLimit 0)");
  const now = new Date();
  const request = requestFor(newTaskId(now), now);
  const claim = (await bb.enqueueClaimed(request)) as Claim;
  lap("enqueueClaimed (fsync + 2 links)");
  const startedAt = new Date().toISOString();
  await bb.progress(claim, "", startedAt);
  lap("progress write (no fsync; dispatch skips it for answers under 50 ms)");
  const answer = await client.chat({ text: PROMPT, user: `clawos:${request.id}` });
  lap("GatewayClient.chat");
  await bb.complete(claim, {
    schema: "clawos.result/1",
    id: request.id,
    attempt: 1,
    node: "main",
    status: "completed",
    text: answer.text,
    startedAt,
    finishedAt: new Date().toISOString(),
    durationMs: 1,
  });
  lap("complete (fsync + link + rename)");
}
for (let i = 0; i < BREAKDOWN; i++)
  await rm(join(bb.location, "tmp", `bench-fsync-${i}.tmp`), { force: true });
const breakdown = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, summarize(v)]));
const sumOfSteps = round(
  Object.entries(breakdown)
    .filter(([k]) => !k.startsWith("raw") && !k.startsWith("  of which"))
    .reduce((a, [, v]) => a + v.p50, 0),
);
const finishedOnBoard = (await bb.list({ finishedLimit: 0 })).counts.completed;

await core.close();
await pool.close();
await stub.stop();
killChildren();
await home.cleanup();

console.log(
  `Localhost route overhead — ${ITERATIONS} iterations per arm after ${WARMUP} warm-up rounds${PREFILL ? `, board pre-seeded with ${PREFILL} finished tasks` : ""}`,
);
console.log(`(stub gateway process on 127.0.0.1, reply ${REPLY.length} chars in 4 SSE deltas)\n`);
console.log(table([SUMMARY_HEADER, ...arms.map((a) => summaryRow(a.name, stats[a.name]!))]));
console.log(
  `\ndispatch − bare-undici: +${addedP50} ms at p50, +${addedP95} ms at p95 (goal ≤ 2 ms at p50: ${verdict(addedP50 <= 2)})`,
);
console.log(
  `gateway-client − bare-undici: +${round(stats["gateway-client"]!.p50 - bare.p50)} ms at p50; dispatch − gateway-client: +${round(disp.p50 - stats["gateway-client"]!.p50)} ms at p50`,
);
console.log(`\nBreakdown of dispatch's steps (${BREAKDOWN} runs, done by hand in the same order):\n`);
console.log(table([SUMMARY_HEADER, ...Object.entries(breakdown).map(([k, s]) => summaryRow(k, s))]));
console.log(
  `sum of the step p50s (without the reference and the "of which" row): ${sumOfSteps} ms; ${finishedOnBoard} finished tasks on the blackboard at the end`,
);
emitResult({
  bench: "route-overhead",
  goal: "dispatch adds ≤ 2 ms at p50 over a bare streaming call",
  iterations: ITERATIONS,
  warmup: WARMUP,
  prefill: PREFILL,
  stats,
  addedP50Ms: addedP50,
  addedP95Ms: addedP95,
  met: addedP50 <= 2,
  breakdown,
  breakdownSumP50Ms: sumOfSteps,
  finishedOnBoard,
  machine: machineInfo(),
});
