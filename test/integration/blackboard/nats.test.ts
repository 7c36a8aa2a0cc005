/**
 * NATS-specific behaviour beyond the shared contract: real processes dying mid-task, the
 * server restarting under its clients, and the pitfalls of JetStream itself (a pulled
 * message nobody acknowledges stays invisible for its whole ack wait).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { isApiError } from "../../../source/core/blackboard/nats/js-errors.js";
import { NatsBlackboard } from "../../../source/core/blackboard/nats/nats.js";
import { resolveTaskId } from "../../../source/core/blackboard/resolve-id.js";
import type { Blackboard, Claim } from "../../../source/core/blackboard/types.js";
import { FINAL_STATES } from "../../../source/core/domain/schema.js";
import { FakeClock, makeRequest, resultFor } from "./contract.js";
import { type NatsServer, NatsStore, startNatsServer } from "./nats-fixture.js";

const CHILD = fileURLToPath(new URL("./nats-worker-child.js", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function withServer(body: (server: NatsServer, open: OpenFn) => Promise<void>): Promise<void> {
  const server = await startNatsServer();
  const handles: Blackboard[] = [];
  const open: OpenFn = async (options = {}) => {
    const bb = new NatsBlackboard({ servers: [server.url], ...options });
    handles.push(bb);
    await bb.init();
    return bb;
  };
  try {
    await body(server, open);
  } finally {
    for (const h of handles) await h.close();
    await server.cleanup();
  }
}
type OpenFn = (options?: {
  clock?: () => number;
  retryForMs?: number;
  archiveAfterMs?: number;
}) => Promise<NatsBlackboard>;

/** Claim and complete until the node's inbox is empty. */
async function drain(bb: Blackboard, node: string, text: string): Promise<string[]> {
  const done: string[] = [];
  for (;;) {
    const claim = await bb.claim(node);
    if (!claim) {
      if ((await bb.pendingIds(node)).length === 0) return done;
      continue;
    }
    assert.equal(await bb.complete(claim, resultFor(claim, "completed", text)), true);
    done.push(claim.request.id);
  }
}

describe("NATS blackboard: real processes, restarts and leaf nodes", () => {
  test("a worker SIGKILLed mid-task: the reaper requeues it, another worker completes it, exactly once", async () => {
    await withServer(async (server, open) => {
      const LEASE_MS = 1_500;
      const coordinator = await open();
      const requests = Array.from({ length: 5 }, () => makeRequest({ node: "alpha" }));
      for (const r of requests) await coordinator.enqueue(r);

      const child = spawn(process.execPath, [CHILD, server.url, "alpha", "300"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
      const held = JSON.parse(line) as { id: string; attempt: number; handle: string };
      assert.equal(held.attempt, 1);
      const running = await coordinator.get(held.id);
      assert.equal(running?.state, "running", "the worker was mid-task, with progress written");

      child.kill("SIGKILL");
      await once(child, "exit");

      // The coordinator notices the lease stopped changing, on its own clock.
      let expired: Awaited<ReturnType<ReturnType<Blackboard["coordinator"]>["reapExpired"]>> = [];
      const deadline = Date.now() + 60_000;
      while (expired.length === 0) {
        assert.ok(Date.now() < deadline, "the dead worker's lease was never reaped");
        expired = await coordinator.coordinator().reapExpired(LEASE_MS);
        if (expired.length === 0) await sleep(100);
      }
      assert.deepEqual(expired, [{ id: held.id, node: "alpha", outcome: "requeued" }]);

      const survivor = await open();
      const done = await drain(survivor, "alpha", "done by the survivor");
      assert.deepEqual(done.sort(), requests.map((r) => r.id).sort(), "every task completed by the survivor");

      // The dead worker's claim, if it ever came back, completes nothing.
      const original = requests.find((r) => r.id === held.id)!;
      const zombie: Claim = { request: original, node: "alpha", handle: held.handle };
      assert.equal(await survivor.renew(zombie), false);
      assert.equal(await survivor.complete(zombie, resultFor(zombie, "completed", "from the grave")), false);

      const listing = await coordinator.list();
      assert.deepEqual(listing.problems, []);
      assert.equal(listing.counts.completed, 5);
      assert.equal(listing.tasks.length, 5);
      for (const task of listing.tasks) {
        assert.equal(task.state, "completed");
        assert.equal(task.result?.text, "done by the survivor");
        assert.equal(task.result?.attempt, task.request.id === held.id ? 2 : 1);
      }
      const killed = listing.tasks.find((t) => t.request.id === held.id)!;
      assert.ok(killed.request.history.some((h) => h.event === "lease-expired"));
      assert.equal((await coordinator.coordinator().reapExpired(LEASE_MS)).length, 0);
    });
  });

  test("a busy worker SIGKILLed holding doorbells it fetched ahead: another takes every task it had not claimed at once, and each task is done once", async () => {
    await withServer(async (server, open) => {
      const LEASE_MS = 1_500;
      const LANES = 4;
      const coordinator = await open();
      const requests = Array.from({ length: 200 }, () => makeRequest({ node: "alpha" }));
      for (const r of requests) await coordinator.enqueue(r);

      const child = spawn(process.execPath, [CHILD, server.url, "alpha", "0", String(LANES), "40"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const byChild: string[] = [];
      const lines = createInterface({ input: child.stdout! });
      lines.on("line", (line) => byChild.push((JSON.parse(line) as { done: string }).done));
      // Kill it mid-stream, while it holds a batch: doorbells delivered to it and not yet
      // acknowledged (fetched ahead), as the server counts them.
      const store = await NatsStore.open(server.url);
      let heldAhead = 0;
      try {
        const jsm = await jetstreamManager(store.nc);
        const lane = store.names.durable("alpha", "P2");
        const deadline = Date.now() + 60_000;
        while (byChild.length < 5 || heldAhead < 2) {
          assert.ok(Date.now() < deadline, "the worker never got going");
          // (Its consumer appears with the worker's first claim.)
          heldAhead = await jsm.consumers.info(store.names.workStream, lane).then(
            (info) => info.num_ack_pending,
            (error: unknown) => {
              if (isApiError(error, 10014)) return 0; // consumer not found
              throw error;
            },
          );
          if (byChild.length < 5 || heldAhead < 2) await sleep(20);
        }
        child.kill("SIGKILL");
        await once(child, "exit");
      } finally {
        lines.close();
        await store.close();
      }
      assert.ok(byChild.length < requests.length, "it died with work left");

      // One pass of another worker's claims takes every task the dead one had not claimed:
      // its batch is not hidden for the doorbells' ack wait, and nothing waits for a lease.
      const survivor = await open();
      const bySurvivor: string[] = [];
      for (let c = await survivor.claim("alpha"); c; c = await survivor.claim("alpha")) {
        assert.equal(await survivor.complete(c, resultFor(c, "completed", "done by the survivor")), true);
        bySurvivor.push(c.request.id);
      }
      const unfinished = (await coordinator.list({ finishedLimit: 0 })).tasks.filter(
        (t) => !FINAL_STATES.includes(t.state),
      );
      assert.ok(unfinished.length <= LANES, "only the tasks it was running are left");
      for (const t of unfinished) {
        assert.ok(["claimed", "running"].includes(t.state), `${t.request.id} is ${t.state}`);
        assert.ok(!byChild.includes(t.request.id) && !bySurvivor.includes(t.request.id));
      }
      assert.deepEqual(
        bySurvivor.filter((id) => byChild.includes(id)),
        [],
        "no task the dead worker completed ran again",
      );

      // The tasks it was running come back when their leases run out, and are done once.
      const reaped: string[] = [];
      const deadline = Date.now() + 60_000;
      while (reaped.length < unfinished.length) {
        assert.ok(Date.now() < deadline, "the dead worker's leases were never reaped");
        for (const e of await coordinator.coordinator().reapExpired(LEASE_MS)) {
          assert.equal(e.outcome, "requeued");
          reaped.push(e.id);
        }
        if (reaped.length < unfinished.length) await sleep(100);
      }
      assert.deepEqual(reaped.sort(), unfinished.map((t) => t.request.id).sort());
      const late = await drain(survivor, "alpha", "done by the survivor");
      assert.deepEqual(late.sort(), reaped);

      const listing = await coordinator.list({ finishedLimit: 1_000 });
      assert.deepEqual(listing.problems, []);
      assert.equal(listing.counts.completed, requests.length);
      for (const task of listing.tasks) {
        const id = task.request.id;
        assert.equal(task.state, "completed");
        assert.equal(task.result?.attempt, reaped.includes(id) ? 2 : 1);
        const doneBy = byChild.includes(id) ? "the worker that died" : "the survivor";
        // A completion in flight when it died may have landed without being reported.
        if (byChild.includes(id) || bySurvivor.includes(id) || reaped.includes(id))
          assert.equal(task.result?.text, `done by ${doneBy}`);
      }
      const reported = new Set([...byChild, ...bySurvivor, ...late]);
      const unreported = requests.filter((r) => !reported.has(r.id));
      assert.ok(unreported.length <= LANES, "only completions in flight at the kill went unreported");
    });
  });

  test("a server restart with tasks pending, held and in flight loses nothing and doubles nothing", async () => {
    await withServer(async (server, open) => {
      const dispatcher = await open();
      const worker = await open();
      let wakeUps = 0;
      const unwatch = worker.watch({ inboxOf: "alpha" }, () => wakeUps++);
      const first = Array.from({ length: 30 }, () => makeRequest({ node: "alpha" }));
      for (const r of first) await dispatcher.enqueue(r);
      for (let i = 0; i < 10; i++) {
        const c = await worker.claim("alpha");
        assert.ok(c);
        assert.equal(await worker.complete(c, resultFor(c)), true);
      }
      const held = await worker.claim("alpha");
      assert.ok(held);

      await server.kill();
      // Operations issued while the server is down wait for it, then land once.
      const later = Array.from({ length: 5 }, () => makeRequest({ node: "alpha" }));
      const inFlight = Promise.all([
        Promise.all(later.map((r) => dispatcher.enqueue(r))),
        worker.renew(held),
        dispatcher.pendingIds("alpha"),
      ]);
      await sleep(500);
      await server.restart();
      const [enqueued, renewed, pendingDuring] = await inFlight;
      assert.deepEqual(
        enqueued.map((e) => e.created),
        [true, true, true, true, true],
      );
      assert.equal(renewed, true, "the claim held across the restart is still ours");
      assert.ok(pendingDuring.length >= 19, "the pending tasks survived the restart");

      // Wake-ups resume after the reconnect.
      const before = wakeUps;
      assert.deepEqual(await dispatcher.enqueue(later[0]!), { created: false }, "still deduplicated");
      const extra = makeRequest({ node: "alpha" });
      await dispatcher.enqueue(extra);
      const deadline = Date.now() + 10_000;
      while (wakeUps === before && Date.now() < deadline) await sleep(20);
      assert.ok(wakeUps > before, "watch() still wakes the worker after the reconnect");
      unwatch();

      const drained = await drain(worker, "alpha", "after the restart");
      assert.equal(await worker.complete(held, resultFor(held, "completed", "held across")), true);
      const all = [...first, ...later, extra].map((r) => r.id);
      assert.equal(drained.length, all.length - 11, "the rest, each once");
      const listing = await dispatcher.list();
      assert.deepEqual(listing.problems, []);
      assert.equal(listing.tasks.length, all.length);
      assert.deepEqual(listing.counts, {
        pending: 0,
        claimed: 0,
        running: 0,
        completed: all.length,
        failed: 0,
        cancelled: 0,
      });
      assert.deepEqual(listing.tasks.map((t) => t.request.id).sort(), [...all].sort());
      for (const t of listing.tasks) assert.equal(t.result?.attempt, 1, "no lease was lost to the restart");
    });
  });

  test("an operation the server cannot answer in time fails loudly; the task is then neither lost nor doubled", async () => {
    await withServer(async (server, open) => {
      const clock = new FakeClock();
      const impatient = await open({ retryForMs: 1_000, clock: clock.now });
      const request = makeRequest({ node: "beta" });
      await server.kill();
      await assert.rejects(impatient.enqueue(request), /did not answer/);
      await server.restart();
      // The caller tries again (a patient handle waits for the reconnect). Had the failed try
      // landed after all, the id would be taken by the task itself: either way, one task.
      const patient = await open({ clock: clock.now });
      const again = await patient.enqueue(request);
      if (!again.created) assert.ok(await patient.get(request.id), "the id is taken by the task itself");
      clock.advance(10 * 60_000);
      await patient.coordinator().recover();
      const worker = await open();
      const claim = await worker.claim("beta");
      assert.equal(claim?.request.id, request.id);
      assert.equal(await worker.claim("beta"), undefined, "delivered once");
      assert.deepEqual(await worker.pendingIds("beta"), []);
    });
  });

  test("the coordinator archives finished tasks: listings shrink; get, duplicate enqueue and retry still see them", async () => {
    await withServer(async (server, open) => {
      const bb = await open({ archiveAfterMs: 1 });
      const [done, big, failed, waiting] = Array.from({ length: 4 }, () => makeRequest({ node: "alpha" }));
      for (const r of [done!, big!, failed!, waiting!]) await bb.enqueue(r);
      const finish = async (id: string, status: "completed" | "failed", text: string) => {
        const claim = await bb.claim("alpha", id);
        assert.ok(claim);
        assert.equal(await bb.complete(claim, resultFor(claim, status, text)), true);
      };
      await finish(done!.id, "completed", "short answer");
      await finish(big!.id, "completed", "长".repeat(40_000)); // over the inline limit: its own results entry
      await finish(failed!.id, "failed", "no luck");
      await sleep(20);

      const notes = await bb.coordinator().recover();
      assert.ok(
        notes.some((n) => n.startsWith("archived 3 tasks")),
        notes.join("\n"),
      );
      assert.deepEqual(
        (await bb.list()).tasks.map((t) => t.request.id),
        [waiting!.id],
      );
      const store = await NatsStore.open(server.url);
      try {
        const entry = await store.latest(store.names.results, `${big!.id}.1`);
        assert.notEqual(entry?.operation ?? "gone", "PUT", "its results entry is dropped");
      } finally {
        await store.close();
      }
      assert.equal((await bb.get(done!.id))?.result?.text, "short answer");
      assert.equal((await bb.get(big!.id))?.result?.text, "长".repeat(40_000));
      assert.deepEqual(await bb.enqueue(done!), { created: false }, "an archived id stays taken");
      assert.deepEqual((await bb.archivedIds()).sort(), [done!.id, big!.id, failed!.id].sort());
      assert.equal(await resolveTaskId(bb, big!.id.slice(-8)), big!.id, "found by its last 8 hex");
      assert.equal((await bb.coordinator().recover()).length, 0, "nothing more to archive");

      const retried = await bb.retry(failed!.id);
      assert.equal(retried.state, "pending");
      assert.equal(retried.request.attempt, 2);
      const again = await bb.claim("alpha", failed!.id);
      assert.equal(again?.request.id, failed!.id);
      assert.equal(await bb.complete(again!, resultFor(again!, "completed", "second time")), true);
      assert.equal((await bb.get(failed!.id))?.result?.text, "second time");
    });
  });

  test("coordinator lease: one holder at a time; renewals keep it; a silent holder is taken over after a lease, by the taker's clock", async () => {
    await withServer(async (_server, open) => {
      const LEASE = 10_000;
      const clockA = new FakeClock();
      const clockB = new FakeClock(Date.now() - 300_000); // skewed 5 min behind: must not matter
      const clockC = new FakeClock(Date.now() + 300_000);
      const a = await open({ clock: clockA.now });
      const b = await open({ clock: clockB.now });
      const c = await open({ clock: clockC.now });
      assert.equal(await a.coordinatorLease("hub:1", LEASE), true, "the first to ask gets it");
      assert.equal(await b.coordinatorLease("laptop:2", LEASE), false);
      assert.equal(await c.coordinatorLease("cloud:3", LEASE), false);
      // a keeps renewing: nobody takes over, however long the others wait.
      for (let i = 0; i < 4; i++) {
        clockB.advance(LEASE / 2);
        clockC.advance(LEASE / 2);
        assert.equal(await a.coordinatorLease("hub:1", LEASE), true);
        assert.equal(await b.coordinatorLease("laptop:2", LEASE), false);
        assert.equal(await c.coordinatorLease("cloud:3", LEASE), false);
      }
      // a stops renewing (its worker died): b and c see the lease stand still for a whole lease.
      clockB.advance(LEASE / 2);
      clockC.advance(LEASE / 2);
      assert.equal(await b.coordinatorLease("laptop:2", LEASE), false, "half a lease still: not yet");
      clockB.advance(LEASE / 2 + 1);
      clockC.advance(LEASE / 2 + 1);
      const takers = await Promise.all([
        b.coordinatorLease("laptop:2", LEASE),
        c.coordinatorLease("cloud:3", LEASE),
      ]);
      assert.equal(takers.filter(Boolean).length, 1, "exactly one takes over");
      assert.equal(await a.coordinatorLease("hub:1", LEASE), false, "the old holder learns it lost");
      const winner = takers[0] ? b : c;
      const other = takers[0] ? c : b;
      assert.equal(await winner.coordinatorLease("x", LEASE), true, "the new holder renews");
      // A holder that stops cleanly gives the lease up: the next one to ask has it at once.
      await a.releaseCoordinatorLease?.(); // not a's: changes nothing
      assert.equal(await other.coordinatorLease("y", LEASE), false);
      await winner.releaseCoordinatorLease?.();
      assert.equal(await other.coordinatorLease("y", LEASE), true, "given up, taken without waiting a lease");
    });
  });

  test("a doorbell pulled by a claimer that died before acknowledging it is claimable at once, not after the ack wait", async () => {
    await withServer(async (server, open) => {
      const worker = await open();
      assert.equal(await worker.claim("alpha"), undefined); // creates alpha's consumer
      const request = makeRequest({ node: "alpha" });
      await worker.enqueue(request);
      // A claimer pulls the doorbell (JetStream now counts it as delivered) and dies.
      const store = await NatsStore.open(server.url);
      try {
        const n = store.names;
        const pulled = await store.nc.request(
          `$JS.API.CONSUMER.MSG.NEXT.${n.workStream}.${n.durable("alpha", request.priority)}`,
          JSON.stringify({ batch: 1, no_wait: true }),
          { timeout: 5_000, noMux: true },
        );
        assert.equal(pulled.subject, n.doorbell("alpha", request.id, request.priority));
      } finally {
        await store.close();
      }
      const other = await open();
      const claim = await other.claim("alpha");
      assert.equal(claim?.request.id, request.id);
      assert.equal(await other.claim("alpha"), undefined);
      assert.equal(await worker.claim("alpha"), undefined);
    });
  });

  test("hub and leaf: a worker behind a leaf node claims and completes the hub's tasks through the JetStream domain", async () => {
    const leafPort = await freePort();
    const hub = await startNatsServer({
      config: (dir) =>
        `listen: "127.0.0.1:-1"\njetstream { store_dir: "${dir}", domain: hub }\nleafnodes { listen: "127.0.0.1:${leafPort}" }\n`,
    });
    const leaf = await startNatsServer({
      config: () =>
        `listen: "127.0.0.1:-1"\nleafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }\n`,
    });
    const handles: NatsBlackboard[] = [];
    try {
      const atHub = new NatsBlackboard({ servers: [hub.url] });
      handles.push(atHub);
      await atHub.init();
      // The leaf connects to the hub on its own schedule: a handle there retries until it can.
      const onLeaf = new NatsBlackboard({ servers: [leaf.url], domain: "hub" });
      handles.push(onLeaf);
      await onLeaf.init();
      let wakeUps = 0;
      const unwatch = onLeaf.watch({ inboxOf: "laptop" }, () => wakeUps++);
      const requests = Array.from({ length: 5 }, () => makeRequest({ node: "laptop" }));
      for (const r of requests) await atHub.enqueue(r);
      assert.deepEqual((await onLeaf.pendingIds("laptop")).sort(), requests.map((r) => r.id).sort());
      assert.deepEqual(
        (await drain(onLeaf, "laptop", "done behind the leaf")).sort(),
        requests.map((r) => r.id).sort(),
      );
      const deadline = Date.now() + 10_000;
      while (wakeUps === 0 && Date.now() < deadline) await sleep(20);
      assert.ok(wakeUps > 0, "the hub's doorbells wake a watcher on the leaf");
      unwatch();
      const listing = await atHub.list();
      assert.equal(listing.counts.completed, 5);
      for (const t of listing.tasks) assert.equal(t.result?.text, "done behind the leaf");
      // And the other way: dispatched on the leaf, claimed at the hub, once.
      const back = makeRequest({ node: "hub-node" });
      assert.deepEqual(await onLeaf.enqueue(back), { created: true });
      assert.deepEqual(await onLeaf.enqueue(back), { created: false });
      assert.equal((await atHub.claim("hub-node"))?.request.id, back.id);
      assert.equal(await atHub.claim("hub-node"), undefined);
    } finally {
      for (const h of handles) await h.close();
      await leaf.cleanup();
      await hub.cleanup();
    }
  });

  test("a large result goes through the results bucket: first one of an attempt kept, a zombie's never counts, an oversized one is cut", async () => {
    await withServer(async (server, open) => {
      const clock = new FakeClock();
      const bb = await open({ clock: clock.now });
      const store = await NatsStore.open(server.url);
      try {
        const big = (tag: string) => `${tag}: ${"大".repeat(40_000)}`; // ~120 KB: over the inline limit
        const one = makeRequest({ node: "alpha" });
        await bb.enqueue(one);
        const c1 = await bb.claim("alpha");
        assert.ok(c1);
        assert.equal(await bb.complete(c1, resultFor(c1, "completed", big("first"))), true);
        assert.equal(await bb.complete(c1, resultFor(c1, "completed", big("second"))), false);
        assert.equal((await bb.get(one.id))?.result?.text, big("first"));
        const stored = await store.kv(store.names.results).get(store.names.resultKey(one.id, 1));
        assert.equal(stored?.operation, "PUT", "kept in the results bucket, not in the record");

        // A zombie's large result, published after its lease was reaped, never counts.
        const two = makeRequest({ node: "alpha" });
        await bb.enqueue(two);
        const zombie = await bb.claim("alpha");
        assert.ok(zombie);
        await bb.coordinator().reapExpired(30_000);
        clock.advance(30_001);
        assert.equal((await bb.coordinator().reapExpired(30_000))[0]?.outcome, "requeued");
        const live = await bb.claim("alpha");
        assert.equal(live?.request.attempt, 2);
        assert.equal(await bb.complete(zombie, resultFor(zombie, "completed", big("zombie"))), false);
        const left = await store.kv(store.names.results).get(store.names.resultKey(two.id, 1));
        assert.notEqual(left?.operation, "PUT", "the loser took its result back");
        assert.equal((await bb.get(two.id))?.state, "claimed");
        assert.equal(await bb.complete(live!, resultFor(live!, "completed", big("live"))), true);
        const done = await bb.get(two.id);
        assert.equal(done?.result?.text, big("live"));
        assert.equal(done?.result?.attempt, 2);

        // Within the schema's million characters but 3 MB of UTF-8, more than a record may be:
        // stored cut, and says so.
        const three = makeRequest({ node: "alpha" });
        await bb.enqueue(three);
        const c3 = await bb.claim("alpha");
        assert.ok(c3);
        assert.equal(await bb.complete(c3, resultFor(c3, "completed", "大".repeat(1_000_000))), true);
        const cut = (await bb.get(three.id))?.result?.text ?? "";
        const bytes = Buffer.byteLength(cut);
        assert.ok(bytes > 900_000 && bytes < 1_048_576, `cut to fit (${bytes} bytes)`);
        assert.match(cut, /cut by clawos: the whole text was \d+ bytes/);
      } finally {
        await store.close();
      }
    });
  });
});
