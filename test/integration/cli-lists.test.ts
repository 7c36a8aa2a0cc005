import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import type { TaskRequest } from "../../source/core/domain/schema.js";
import { makeWorld, type World } from "../testkit/cli-harness.js";

/** Sixteen tasks made within one second (their ids cannot tell their order), all finished. */
function requests(): TaskRequest[] {
  const base = Date.parse("2026-03-01T12:00:00.000Z");
  return Array.from({ length: 16 }, (_, i) => {
    // Hex that sorts against creation order: the id alone would put the oldest first.
    const id = `req_20260301_120000_${(0xffff_ff00 - i).toString(16)}`;
    const createdAt = new Date(base + i * 10).toISOString();
    return {
      schema: "clawos.task/1",
      id,
      target: "main",
      priority: "P2",
      text: `task number ${i + 1}`,
      tags: [],
      createdAt,
      createdBy: "test",
      attempt: 1,
      maxAttempts: 3,
      route: { node: "main", transport: "blackboard", reason: "test", decidedAt: createdAt },
      history: [],
    } satisfies TaskRequest;
  });
}

describe("lists tell the true count and keep the newest", () => {
  let world: World;
  const made = requests();

  before(async () => {
    world = await makeWorld();
    const bb = new DirectoryBlackboard(world.blackboard);
    await bb.init();
    for (const r of made) {
      await bb.enqueue(r);
      const claim = await bb.claim("main", r.id);
      assert.ok(claim);
      const at = new Date().toISOString();
      await bb.complete(claim, {
        schema: "clawos.result/1",
        id: r.id,
        attempt: 1,
        node: "main",
        status: "completed",
        text: "ok",
        startedAt: at,
        finishedAt: at,
      });
    }
    await bb.close();
  });
  after(async () => {
    await world.cleanup();
  });

  test("status --limit 5 says how many more there really are", async () => {
    const r = await world.run(["status", "--limit", "5"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /… 11 more \(clawos tasks list\)/);
    assert.match(r.stdout, /task number 16/, "the newest is shown");
  });

  test("tasks list --limit 3 shows the three newest, and the true number left", async () => {
    const r = await world.run(["tasks", "list", "--limit", "3"]);
    assert.equal(r.code, 0, r.stderr);
    const shown = [...r.stdout.matchAll(/task number (\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(shown, [16, 15, 14]);
    assert.match(r.stdout, /… 13 more, older \(--limit 16 lists them/);
    const json = JSON.parse((await world.run(["tasks", "list", "--limit", "3", "--json"])).stdout) as {
      tasks: { text: string }[];
    };
    assert.deepEqual(
      json.tasks.map((t) => t.text),
      ["task number 16", "task number 15", "task number 14"],
    );
  });
});
