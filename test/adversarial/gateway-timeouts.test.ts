/**
 * A gateway that never finishes its reply, goes silent after its headers, or trickles bytes
 * holds a task only as long as federation.json's timing says, then the task is handed back.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { editConfig, type World, worldWithMain } from "../testkit/cli-harness.js";
import { type StubGateway, type StubMode, startStubGateway } from "../testkit/stub-gateway.js";

const TOKEN = "timeouts-token";

describe("a gateway that holds a turn open", () => {
  let world: World;
  let gateway: StubGateway;

  before(async () => {
    gateway = await startStubGateway({ token: TOKEN });
    world = await worldWithMain(gateway.port, TOKEN);
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  /** One task waits in hub's inbox; `node run --once` meets the gateway in `mode`. */
  async function runOnce(mode: StubMode, timing: { requestTimeoutMs: number; streamIdleMs: number }) {
    await editConfig(world, (config) => {
      config.timing = { ...(config.timing as object), ...timing };
    });
    gateway.setMode("starting");
    const dispatched = await world.run(["dispatch", `held by ${mode}`, "--to", "hub", "--json"]);
    assert.equal(dispatched.code, 0, dispatched.stderr);
    const { id } = JSON.parse(dispatched.stdout) as { id: string };
    gateway.configure({ mode, chunkDelayMs: 50 });
    const chatsBefore = gateway.requests.filter((r) => r.path === "/v1/chat/completions").length;
    // The harness gives up (and fails the test) if the worker is still held after 60 s.
    const worker = await world.run(["node", "run", "--node", "hub", "--once"], { timeoutMs: 60_000 });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout, /^0 completed, 0 failed, 1 handed back$/m, worker.stderr);
    const chats = gateway.requests.filter((r) => r.path === "/v1/chat/completions").length - chatsBefore;
    assert.equal(chats, 1, "one attempt, not run twice");
    const show = await world.run(["tasks", "show", id, "--json"]);
    const task = JSON.parse(show.stdout) as {
      state: string;
      attempt: number;
      history: { event: string; detail?: string }[];
    };
    assert.equal(task.state, "pending", "handed back to hub's inbox for its next attempt");
    assert.equal(task.attempt, 2);
    const failed = task.history.filter((h) => h.event === "attempt-failed");
    assert.equal(failed.length, 1);
    // Out of the way of the next case, which has its own task.
    assert.equal((await world.run(["tasks", "cancel", id])).code, 0);
    return { stderr: worker.stderr, detail: failed[0]?.detail ?? "" };
  }

  test("timing.requestTimeoutMs ends a reply that streams forever", async () => {
    const { stderr, detail } = await runOnce("forever", { requestTimeoutMs: 2000, streamIdleMs: 60_000 });
    assert.match(detail, /did not finish POST \/v1\/chat\/completions within 2 s/);
    assert.match(stderr, /did not finish POST \/v1\/chat\/completions within 2 s/);
  });

  test("timing.streamIdleMs ends a reply that goes silent after its headers", async () => {
    const { detail } = await runOnce("silent", { requestTimeoutMs: 60_000, streamIdleMs: 1000 });
    assert.match(detail, /sent nothing for 1 s in the middle of its reply/);
  });

  test("timing.requestTimeoutMs ends a reply that trickles one byte at a time", async () => {
    const { detail } = await runOnce("trickle", { requestTimeoutMs: 2000, streamIdleMs: 60_000 });
    assert.match(detail, /did not finish POST \/v1\/chat\/completions within 2 s/);
  });
});
