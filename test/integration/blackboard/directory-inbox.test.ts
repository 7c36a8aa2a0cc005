/**
 * The directory driver's inbox view, kept between claims: a record that only looks like a task
 * is never claimed, and workers whose listings go stale as others claim still take each task
 * once, most urgent first.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DirectoryBlackboard } from "../../../source/core/blackboard/directory/directory.js";
import type { Priority } from "../../../source/core/domain/schema.js";
import { makeRequest } from "./contract.js";

async function withRoot(body: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "clawos-bb-inbox-"));
  try {
    await body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function open(root: string, options: { quarantine?: boolean } = {}): Promise<DirectoryBlackboard> {
  const bb = new DirectoryBlackboard(root, options);
  await bb.init();
  return bb;
}

/** A file at requests/alpha/<id>.json whose id, priority, date and node are right but whose record is not valid. */
async function plantInvalid(root: string, priority: Priority): Promise<string> {
  const bad = { ...makeRequest({ priority }), maxAttempts: 99, text: "" };
  const path = join(root, "requests", "alpha", `${bad.id}.json`);
  await writeFile(path, JSON.stringify(bad));
  const old = new Date(Date.now() - 10 * 60_000);
  await utimes(path, old, old);
  return bad.id;
}

test("directory inbox: a record that only looks like a task is never claimed or moved, with or without quarantine", async () => {
  for (const quarantine of [false, true]) {
    await withRoot(async (root) => {
      const bb = await open(root, { quarantine });
      const good = makeRequest({ priority: "P3" });
      await bb.enqueue(good);
      // P0: the first one a claim tries.
      const badId = await plantInvalid(root, "P0");
      const claim = await bb.claim("alpha");
      assert.equal(claim?.request.id, good.id, "the valid task is claimed; the invalid one is skipped");
      assert.equal(await bb.claim("alpha"), undefined, "the invalid one is not claimed later either");
      assert.equal(await bb.claim("alpha", badId), undefined, "nor by id");
      const claimed = await readdir(join(root, "claimed", "alpha"));
      assert.deepEqual(
        claimed.filter((n) => n.startsWith(badId)),
        [],
        "it never passed through claimed/",
      );
      const inbox = await readdir(join(root, "requests", "alpha"));
      const quarantined = (await readdir(join(root, "quarantine"))).filter((n) => n.includes(badId));
      if (quarantine) {
        assert.ok(!inbox.includes(`${badId}.json`), "moved out of the inbox");
        assert.equal(quarantined.length, 2, "set aside with its .reason");
        const reasonFile = quarantined.find((n) => n.endsWith(".reason"))!;
        assert.match(await readFile(join(root, "quarantine", reasonFile), "utf8"), /maxAttempts|text/);
      } else {
        assert.ok(inbox.includes(`${badId}.json`), "left where it lies");
        const listing = await bb.list();
        assert.ok(
          listing.problems.some((p) => p.includes(badId)),
          `list() reports it: ${listing.problems.join("; ")}`,
        );
      }
      await bb.close();
    });
  }
});

test("directory inbox: workers ordering their inboxes from cached listings claim each task once, most urgent first", async () => {
  await withRoot(async (root) => {
    const publisher = await open(root);
    const workers = [await open(root), await open(root), await open(root)];
    const priorities: Priority[] = ["P3", "P1", "P2", "P0"];
    const base = Date.parse("2026-03-01T10:00:00.000Z");
    const tasks = Array.from({ length: 40 }, (_, i) =>
      makeRequest({
        priority: priorities[i % 4]!,
        createdAt: new Date(base + ((i * 7) % 40) * 1000).toISOString(),
      }),
    );
    for (const t of tasks) await publisher.enqueue(t);
    const keyOf = new Map(tasks.map((t) => [t.id, `${t.priority}${t.createdAt}${t.id}`]));
    const byWorker: string[][] = workers.map(() => []);
    // Round robin: each worker's listing goes stale as the others claim.
    for (let turn = 0, idle = 0; idle < workers.length; turn++) {
      const w = turn % workers.length;
      const claim = await workers[w]!.claim("alpha");
      if (!claim) {
        idle++;
        continue;
      }
      idle = 0;
      byWorker[w]!.push(claim.request.id);
    }
    const all = byWorker.flat();
    assert.equal(all.length, tasks.length, "every task claimed");
    assert.equal(new Set(all).size, tasks.length, "none claimed twice");
    for (const [w, ids] of byWorker.entries()) {
      const priorityOrder = ids.map((id) => keyOf.get(id)!.slice(0, 2));
      assert.deepEqual(
        priorityOrder,
        [...priorityOrder].sort(),
        `worker ${w} never takes a less urgent task first`,
      );
    }
    // A P0 published after every worker listed the inbox is the next task claimed.
    const late = [makeRequest({ priority: "P3" }), makeRequest({ priority: "P3" })];
    for (const t of late) await publisher.enqueue(t);
    assert.ok(await workers[0]!.claim("alpha"));
    const urgent = makeRequest({ priority: "P0" });
    await publisher.enqueue(urgent);
    assert.equal((await workers[1]!.claim("alpha"))?.request.id, urgent.id);
    for (const bb of [publisher, ...workers]) await bb.close();
  });
});
