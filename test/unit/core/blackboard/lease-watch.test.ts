/** LeaseWatch: leases timed on the machine's monotonic clock, and which saved notes it recalls. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LeaseWatch, monotonicMs } from "../../../../source/core/blackboard/lease-watch.js";

/** An in-memory notes store, as the drivers' file and KV key are. */
function memoryStore(initial?: unknown) {
  const store = {
    saved: initial === undefined ? undefined : JSON.stringify(initial),
    load: async () => (store.saved === undefined ? undefined : (JSON.parse(store.saved) as unknown)),
    save: async (json: string) => {
      store.saved = json;
    },
  };
  return store;
}

function watch(store: ReturnType<typeof memoryStore>, clock?: () => number): LeaseWatch {
  return new LeaseWatch({ machine: "hub", versionField: "rev", store, ...(clock ? { clock } : {}) });
}

/** One round that sees `key` at `version`: how long it has stood unrenewed (undefined: first sight). */
async function round(w: LeaseWatch, key: string, version: number): Promise<number | undefined> {
  await w.beginRound();
  const still = w.unrenewedFor(key, version);
  await w.endRound();
  return still;
}

test("by default a lease is timed on the monotonic clock, which the saved notes name", async () => {
  const store = memoryStore();
  const before = monotonicMs();
  assert.equal(await round(watch(store), "t1", 1), undefined);
  const notes = JSON.parse(store.saved ?? "{}") as {
    host: string;
    clock: string;
    leases: Record<string, { seenAt: number }>;
  };
  assert.equal(notes.host, "hub");
  assert.equal(notes.clock, "monotonic");
  const seenAt = notes.leases.t1?.seenAt ?? Number.NaN;
  assert.ok(seenAt >= before && seenAt <= monotonicMs(), `seenAt ${seenAt} is a monotonic stamp`);
  // The next process of this machine recalls the sighting: it goes on counting from it.
  const still = await round(watch(store), "t1", 1);
  assert.ok(still !== undefined && still >= 0, "recalled, not a first sight");
});

test("notes stamped by a wall clock (written before this format) are not recalled: the count starts again", async () => {
  const wallStamp = Date.now() - 10 * 60_000;
  const store = memoryStore({ host: "hub", leases: { t1: { rev: 1, seenAt: wallStamp } } });
  let t = 5_000;
  const w = watch(store, () => t);
  assert.equal(await round(w, "t1", 1), undefined, "a first sight, not ten minutes unrenewed");
  t += 1_000;
  assert.equal(await round(w, "t1", 1), 1_000);
});

test("a note stamped later than this clock's now (written before a reboot) counts from now, never from the past", async () => {
  const store = memoryStore({
    host: "hub",
    clock: "monotonic",
    leases: { t1: { rev: 7, seenAt: 9_000_000 } },
  });
  let t = 60_000; // this boot's clock is younger than the note
  const w = watch(store, () => t);
  assert.equal(await round(w, "t1", 7), 0);
  t += 30_000;
  assert.equal(await round(w, "t1", 7), 30_000);
  assert.equal(await round(w, "t1", 8), undefined, "renewed: a new version starts a new count");
});

test("another machine's notes are not recalled", async () => {
  const store = memoryStore({ host: "laptop", clock: "monotonic", leases: { t1: { rev: 1, seenAt: 0 } } });
  const w = watch(store, () => 100_000);
  assert.equal(await round(w, "t1", 1), undefined);
});
