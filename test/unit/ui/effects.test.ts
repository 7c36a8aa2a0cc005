import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../../../source/core/domain/errors.js";
import type { FederationApi } from "../../../source/core/domain/federation-types.js";
import { runEffect } from "../../../source/ui/effects.js";
import type { AppAction } from "../../../source/ui/state/app-state.js";

/** A facade whose every method fails unless the test gives it one: only the called method matters. */
function api(methods: Partial<FederationApi>): FederationApi {
  const unexpected = () => Promise.reject(new Error("not expected in this test"));
  return {
    getSnapshot: () => {
      throw new Error("not expected in this test");
    },
    subscribe: () => () => {},
    dispatch: unexpected,
    retry: unexpected,
    cancel: unexpected,
    refresh: unexpected,
    discover: unexpected,
    close: () => Promise.resolve([]),
    ...methods,
  };
}

async function run(facade: FederationApi, effect: Parameters<typeof runEffect>[1]): Promise<AppAction[]> {
  const reported: AppAction[] = [];
  await runEffect(facade, effect, (action) => reported.push(action));
  return reported;
}

describe("runEffect (without Ink)", () => {
  it("dispatch: the outcome comes back as dispatched, a failure as dispatchFailed", async () => {
    const outcome = { id: "t-1", decision: { node: null, reason: "no node online" } };
    const inputs: unknown[] = [];
    const ok = api({
      dispatch: (input) => {
        inputs.push(input);
        return Promise.resolve(outcome);
      },
    });
    const input = { text: "hello", to: "any", priority: "P2" as const };
    assert.deepEqual(await run(ok, { type: "dispatch", input }), [{ type: "dispatched", outcome }]);
    assert.deepEqual(inputs, [input]);
    const bad = api({ dispatch: () => Promise.reject(new Error("no such node")) });
    assert.deepEqual(await run(bad, { type: "dispatch", input }), [
      { type: "dispatchFailed", error: "no such node" },
    ]);
  });

  it("retry and cancel: one call per id in order, one message for all", async () => {
    const calls: string[] = [];
    const facade = api({
      retry: async (id) => {
        calls.push(`retry ${id}`);
      },
      cancel: async (id) => {
        calls.push(`cancel ${id}`);
        if (id === "b") throw new Error("already finished");
      },
    });
    assert.deepEqual(await run(facade, { type: "retry", ids: ["a"] }), [
      { type: "notify", message: { text: "Asked to retry a.", tone: "info" } },
    ]);
    assert.deepEqual(await run(facade, { type: "retry", ids: ["a", "b"] }), [
      { type: "notify", message: { text: "Asked to retry 2 tasks.", tone: "info" } },
    ]);
    assert.deepEqual(await run(facade, { type: "cancel", ids: ["a", "b", "c"] }), [
      { type: "notify", message: { text: "Could not cancel b: already finished", tone: "error" } },
    ]);
    assert.deepEqual(calls, ["retry a", "retry a", "retry b", "cancel a", "cancel b", "cancel c"]);
  });

  it("refresh and discover report success and failure", async () => {
    assert.deepEqual(await run(api({ refresh: () => Promise.resolve() }), { type: "refresh" }), [
      { type: "notify", message: { text: "Refreshed.", tone: "info" } },
    ]);
    assert.deepEqual(await run(api({ refresh: () => Promise.reject("disk gone") }), { type: "refresh" }), [
      { type: "notify", message: { text: "Refresh failed: disk gone", tone: "error" } },
    ]);
    assert.deepEqual(await run(api({ discover: () => Promise.resolve(["beta"]) }), { type: "discover" }), [
      { type: "discovered", ids: ["beta"] },
    ]);
    assert.deepEqual(
      await run(api({ discover: () => Promise.reject(new Error("no home")) }), { type: "discover" }),
      [{ type: "discoverFailed", error: "no home" }],
    );
  });

  it("incubate: running steps go to the status line, then where the node runs", async () => {
    const facade = api({
      incubate: async (input, onStep) => {
        assert.deepEqual(input, { name: "beta", start: true, configOnly: false });
        onStep({ step: 1, total: 2, title: "Write the config", status: "running" });
        onStep({ step: 1, total: 2, title: "Write the config", status: "done" });
        onStep({ step: 2, total: 2, title: "Start the gateway", status: "running" });
        return { node: "beta", port: 18800 };
      },
    });
    assert.deepEqual(await run(facade, { type: "incubate", name: "beta", start: true, configOnly: false }), [
      { type: "notify", message: { text: "[1/2] Write the config…", tone: "info" } },
      { type: "notify", message: { text: "[2/2] Start the gateway…", tone: "info" } },
      {
        type: "notify",
        message: {
          text: "Node beta is ready on 127.0.0.1:18800, and it answered a first turn.",
          tone: "info",
        },
      },
    ]);
    // Started but its first turn failed: kept, and the status line says why and how to fix it.
    const mute = api({
      incubate: async () => ({
        node: "mute",
        port: 18920,
        cannotAnswer: "no usable credentials. Fix: paste a key",
      }),
    });
    assert.deepEqual(await run(mute, { type: "incubate", name: "mute", start: true, configOnly: false }), [
      {
        type: "notify",
        message: {
          text: "Node mute runs on 127.0.0.1:18920 but cannot answer yet (kept as misconfigured): no usable credentials. Fix: paste a key",
          tone: "error",
        },
      },
    ]);
    const failing = api({ incubate: () => Promise.reject(new Error("port taken")) });
    assert.deepEqual(await run(failing, { type: "incubate", name: "b", start: false, configOnly: true }), [
      {
        type: "notify",
        message: { text: "Incubation failed, everything rolled back: port taken", tone: "error" },
      },
    ]);
    assert.deepEqual(await run(api({}), { type: "incubate", name: "b", start: false, configOnly: false }), [
      { type: "notify", message: { text: "Incubation is not available here.", tone: "error" } },
    ]);
  });

  it("migrate: each line, then done; a failure keeps its hint; a facade without it says so", async () => {
    const input = { node: "alpha", to: "me@box", dryRun: true };
    const facade = api({
      migrate: async (given, onLine) => {
        assert.deepEqual(given, input);
        onLine("plan: copy 3 files");
        onLine("");
      },
    });
    assert.deepEqual(await run(facade, { type: "migrate", input }), [
      { type: "migrateLine", line: "plan: copy 3 files" },
      { type: "migrateLine", line: "" },
      { type: "migrateDone" },
    ]);
    const failing = api({
      migrate: () => Promise.reject(new UserError("ssh refused", { hint: "check the key" })),
    });
    assert.deepEqual(await run(failing, { type: "migrate", input }), [
      { type: "migrateFailed", error: "ssh refused\n  fix: check the key" },
    ]);
    assert.deepEqual(await run(api({}), { type: "migrate", input }), [
      { type: "migrateFailed", error: "Migration is not available here." },
    ]);
  });
});
