/**
 * A gateway that is down must not use up a task's attempts. A turn it refuses (connection
 * refused: nothing ran) hands the task back keeping its attempt, on both paths that run turns:
 * the worker's and the dispatching process's own. The worker then stops claiming for that node
 * until a probe says the gateway is back, so nothing loops.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import type { ProbeResult } from "../../source/core/domain/health.js";
import type { FederationCore } from "../../source/core/federation/federation.js";
import { runWorker } from "../../source/core/federation/worker.js";
import { withCoreHome } from "../testkit/core-home.js";

/** A loopback port nothing listens on: every connection to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === "object");
  return address.port;
}

/** The probe a few seconds old that still says the gateway is up (it went down since). */
function staleProbeSaysUp(core: FederationCore): void {
  // Kept where routing reads it, as a real probe's result is.
  const probes = (core as unknown as { probes: Map<string, ProbeResult> }).probes;
  core.probe = async (node: string): Promise<ProbeResult> => {
    const result = { ok: true, latencyMs: 1, checkedAt: Date.now() };
    probes.set(node, result);
    return result;
  };
}

const config = (port: number) => ({
  blackboard: { driver: "directory" },
  timing: { heartbeatMs: 60_000, rescanMs: 60_000 },
  nodes: [{ id: "main", machine: "hub", port, profile: null, token: { none: true } }],
});

test("the worker: a refused turn is handed back with its attempt, claimed once, not in a loop", async () => {
  const port = await closedPort();
  await withCoreHome(config(port), async (core) => {
    staleProbeSaysUp(core);
    const { request } = await core.dispatch(
      { text: "hello", to: "main", priority: "P2" },
      { runHere: false }, // into the inbox, for the worker
    );
    const claims: string[] = [];
    const claim = core.blackboard.claim.bind(core.blackboard);
    core.blackboard.claim = async (node, id) => {
      const held = await claim(node, id);
      if (held) claims.push(held.request.id);
      return held;
    };
    const lines: string[] = [];
    const summary = await runWorker(core, {
      nodes: ["main"],
      once: true,
      coordinator: false,
      concurrency: 2,
      graceMs: 1_000,
      log: (line) => lines.push(line),
      stop: new AbortController().signal,
    });
    assert.deepEqual(claims, [request.id], `claimed once:\n${lines.join("\n")}`);
    assert.equal(summary.requeued, 1);
    const task = await core.blackboard.get(request.id);
    assert.equal(task?.state, "pending");
    assert.equal(task?.request.attempt, 1, "the refused turn did not use up an attempt");
    const last = task?.request.history.at(-1);
    assert.equal(last?.event, "handed-back");
    assert.match(last?.detail ?? "", /attempt 1 on main did not start \(attempt kept\): .*not running/);
  });
});

test("the dispatching process: a refused turn goes back to the inbox with its attempt", async () => {
  const port = await closedPort();
  await withCoreHome(config(port), async (core) => {
    staleProbeSaysUp(core);
    const dispatched = await core.dispatch({ text: "hello", to: "main", priority: "P2" }, { runHere: true });
    const outcome = await dispatched.run;
    assert.equal(outcome?.kind, "requeued");
    const task = await core.blackboard.get(dispatched.request.id);
    assert.equal(task?.state, "pending");
    assert.equal(task?.request.attempt, 1);
    assert.equal(task?.request.history.at(-1)?.event, "handed-back");
  });
});
