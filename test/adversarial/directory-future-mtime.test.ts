/** A time stamp in the future (another machine's clock, a planted file) holds nothing up. */
import assert from "node:assert/strict";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeRequest } from "../integration/blackboard/contract.js";
import { coordinate, withBoard } from "./directory-world.js";

test("an interrupted move or dispatch whose file is stamped in the future is finished once it is old by this machine's clock", async () => {
  // This machine's clock a minute on: the files below were made a minute ago by it (their ctime).
  await withBoard({ clock: () => Date.now() + 60_000 }, async ({ bb, root }) => {
    const year2100 = new Date("2100-01-01T00:00:00Z");
    const moving = makeRequest({ node: "main" });
    await mkdir(join(root, "reaping", "main"), { recursive: true });
    const reaping = join(root, "reaping", "main", `${moving.id}.requeue.json`);
    await writeFile(reaping, JSON.stringify(moving));
    await utimes(reaping, year2100, year2100);
    const dispatched = makeRequest({ node: "main" });
    const index = join(root, "index", `${dispatched.id}.json`);
    await writeFile(index, JSON.stringify(dispatched));
    await utimes(index, year2100, year2100);

    const notes = await bb.coordinator().recover();
    assert.ok(
      notes.some((n) => n.startsWith(`${moving.id}: finished an interrupted requeue`)),
      notes.join("\n"),
    );
    assert.ok(
      notes.some((n) => n.startsWith(`${dispatched.id}: republished`)),
      notes.join("\n"),
    );
    assert.equal((await bb.get(moving.id))?.state, "pending");
    assert.equal((await bb.get(dispatched.id))?.state, "pending");
  });
});

test("a broken record stamped in the future is not taken for one still being written: it is reported and set aside", async () => {
  await withBoard({ clock: () => Date.now() + 60_000 }, async ({ bb, root }) => {
    const year2100 = new Date("2100-01-01T00:00:00Z");
    await mkdir(join(root, "requests", "main"), { recursive: true });
    const junk = join(root, "requests", "main", "req_20260101_000000_deadbeef.json");
    await writeFile(junk, "not json at all {{{");
    await utimes(junk, year2100, year2100);

    const { problems } = await bb.list();
    assert.ok(
      problems.some((p) => p.includes("req_20260101_000000_deadbeef") && p.includes("not valid JSON")),
      problems.join("\n"),
    );
    const log = await coordinate(bb);
    assert.ok(
      log.some((l) => l.startsWith("quarantined") && l.includes("req_20260101_000000_deadbeef")),
      log.join("\n"),
    );
  });
});
