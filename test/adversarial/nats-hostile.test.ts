/**
 * A NATS blackboard is written by other machines: records with hostile bytes, wrong types,
 * oversized values, and timestamps from skewed clocks, against a real nats-server.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { NatsBlackboard } from "../../source/core/blackboard/nats/nats.js";
import { FakeClock, makeRequest, newId } from "../integration/blackboard/contract.js";
import {
  type NatsServer,
  NatsStore,
  recordOf as natsRecordOf,
  startNatsServer,
} from "../integration/blackboard/nats-fixture.js";

const ESC = "\u001b";
const OSC52 = `${ESC}]52;c;SGFja2VkIQ==\u0007`;

describe("NATS blackboard: records from other machines are untrusted", () => {
  let server: NatsServer;
  let store: NatsStore;
  const handles: NatsBlackboard[] = [];
  let prefixN = 0;

  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    for (const h of handles) await h.close();
    await store?.close();
    await server.cleanup();
  });

  /** A fresh federation on the shared server (own prefix), its store access, and a way to open more handles. */
  async function federation() {
    const prefix = `hostile${++prefixN}`;
    const open = async (extra: Partial<ConstructorParameters<typeof NatsBlackboard>[0]> = {}) => {
      const bb = new NatsBlackboard({ servers: [server.url], prefix, retryForMs: 5_000, ...extra });
      handles.push(bb);
      await bb.init();
      return bb;
    };
    const bb = await open();
    await store?.close();
    store = await NatsStore.open(server.url, bb.names);
    return { bb, open, names: bb.names };
  }

  const recordOf = (request = makeRequest()) => natsRecordOf(request, { w: "w1" });

  test("a broken record or key is reported and set aside without echoing its bytes", async () => {
    const { bb, open, names } = await federation();
    const id = newId();
    await store.putRaw(names.tasks, id, `{"schema": ${OSC52} clear${ESC}[2J`);
    await store.putRaw(names.tasks, `req_${ESC}]0;title${ESC}[2J`, JSON.stringify(recordOf()));
    const listing = await bb.list();
    assert.equal(listing.problems.length, 2, listing.problems.join("\n"));
    for (const line of listing.problems) {
      assert.ok(!line.includes(ESC), `an escape sequence reached a problem line: ${JSON.stringify(line)}`);
      assert.ok(!line.includes("SGFja2Vk"), `a problem line quotes the record: ${JSON.stringify(line)}`);
    }
    assert.ok(
      listing.problems.some((l) => l.includes(id)),
      "the broken record is named by its key",
    );

    const coordinator = await open({ quarantine: true });
    const moved = await coordinator.coordinator().quarantineMalformed();
    assert.equal(moved.length, 2);
    const aside = store.kv(names.aside);
    const reasons: string[] = [];
    for await (const key of await aside.keys())
      if (key.endsWith(".reason")) reasons.push((await aside.get(key))?.string() ?? "");
    assert.equal(reasons.length, 2);
    for (const text of [...moved, ...reasons]) {
      assert.ok(!text.includes(ESC), `an escape sequence reached a reason: ${JSON.stringify(text)}`);
      assert.ok(!text.includes("SGFja2Vk"), `a reason quotes the record: ${JSON.stringify(text)}`);
    }
    assert.equal((await bb.list()).problems.length, 1, "only the set-aside count is left");
  });

  test("hostile fields, wrong types and oversized values never stop the inbox: the good task is claimed", async () => {
    const { bb, names } = await federation();
    const hostile = makeRequest({ createdAt: OSC52 });
    await store.putRaw(names.tasks, hostile.id, JSON.stringify({ ...recordOf(hostile), at: `${ESC}[2J` }));
    const wrongTypes = makeRequest();
    await store.putRaw(
      names.tasks,
      wrongTypes.id,
      JSON.stringify({ ...recordOf(wrongTypes), request: { ...wrongTypes, attempt: "1", history: {} } }),
    );
    const huge = makeRequest();
    await store.putRaw(
      names.tasks,
      huge.id,
      JSON.stringify({ ...recordOf(huge), pad: "x".repeat(1_500_000) }),
    );
    for (const r of [hostile, wrongTypes, huge])
      await store.nc.request(
        names.doorbell("alpha", r.id, "P2"),
        JSON.stringify({ id: r.id, rev: 1, record: {} }),
      );
    const good = makeRequest();
    assert.deepEqual(await bb.enqueue(good), { created: true });

    const listing = await bb.list();
    assert.equal(listing.problems.length, 2, listing.problems.join("\n"));
    const claimed = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const claim = await bb.claim("alpha");
      if (claim) claimed.add(claim.request.id);
    }
    // The record with escapes in its fields is well-formed: it runs (its fields are sanitized where shown).
    assert.deepEqual([...claimed].sort(), [good.id, hostile.id].sort());
  });

  test("a lease note from the future does not hold a claimed task", async () => {
    const clock = new FakeClock(Date.now());
    const { bb, open, names } = await federation();
    const request = makeRequest();
    await bb.enqueue(request);
    assert.ok(await bb.claim("alpha"));
    const { revision } = await store.task(request.id);
    // This machine's own note, written while its clock ran ten years ahead (or planted).
    await store.putRaw(
      `${names.prefix}-leases`,
      "lease-seen.m1",
      JSON.stringify({
        host: "m1",
        leases: { [request.id]: { rev: revision, seenAt: clock.now() + 10 * 365 * 86_400_000 } },
      }),
    );
    const coordinator = await open({ clock: () => clock.now(), machine: "m1" });
    assert.deepEqual(await coordinator.coordinator().reapExpired(60_000), []);
    clock.advance(61_000);
    const expired = await coordinator.coordinator().reapExpired(60_000);
    assert.deepEqual(
      expired.map((e) => e.id),
      [request.id],
      "the lease, unrenewed for a whole lease by this clock, expires",
    );
  });

  test("a server clock ahead of this one does not hold a pending task without its doorbell", async () => {
    const { open, names } = await federation();
    const request = makeRequest();
    // A dispatcher died between creating the record and ringing its doorbell.
    await store.kv(names.tasks).create(request.id, JSON.stringify(recordOf(request)));
    const behind = () => Date.now() - 3_600_000;
    const coordinator = await open({ clock: behind });
    const notes = await coordinator.coordinator().recover();
    assert.ok(
      notes.some((n) => n.includes(request.id)),
      `republished: ${notes.join("; ")}`,
    );
    assert.deepEqual(await coordinator.pendingIds("alpha"), [request.id]);
  });

  test("a heartbeat from the future does not keep its node looking alive", async () => {
    const { bb, names } = await federation();
    const status = {
      schema: "clawos.node-status/1",
      node: "skewed",
      machine: "elsewhere",
      pid: 1,
      version: "0.0.0",
      startedAt: "2099-01-01T00:00:00.000Z",
      heartbeatAt: "2099-01-01T00:00:00.000Z",
      state: "running",
      inFlight: [],
      completed: 0,
      failed: 0,
      gateway: { reachable: true, checkedAt: "2099-01-01T00:00:00.000Z" },
    };
    await store.kv(names.nodes).put("skewed", JSON.stringify(status));
    const { records } = await bb.readNodeStatuses();
    const at = Date.parse(records.find((r) => r.node === "skewed")!.heartbeatAt);
    assert.ok(at <= Date.now(), `heartbeat read as ${new Date(at).toISOString()}`);
  });
});
