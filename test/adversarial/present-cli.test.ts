/**
 * Whoever can write the shared blackboard writes the records every CLI view prints. Plant
 * records whose free-text fields carry terminal escape sequences and see that no view lets one
 * through, and that a timestamp that is not one reads as "unknown", not "NaNd".
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, type World } from "../testkit/cli-harness.js";
import {
  CLIPBOARD,
  hostileControls,
  plantHostileHeartbeat,
  plantHostileTask,
  TASK_ID,
} from "./hostile-records.js";

describe("record fields from the blackboard reach the CLI sanitized", () => {
  let world: World;

  before(async () => {
    world = await makeWorld();
    // Port 9 (discard) on loopback: nothing listens, the probe says so quickly.
    assert.equal((await world.run(["nodes", "add", "alpha", "--port", "9"])).code, 0);
    await plantHostileTask(world.blackboard, "alpha");
    await plantHostileHeartbeat(world.blackboard, "alpha");
  });
  after(async () => {
    await world.cleanup();
  });

  test("tasks show, tasks list, status, status --markdown and nodes list print no control sequence", async () => {
    for (const args of [
      ["tasks", "show", TASK_ID],
      ["tasks", "list"],
      ["status"],
      ["status", "--markdown"],
      ["nodes", "list"],
    ]) {
      const r = await world.run(args);
      assert.equal(r.code, 0, `clawos ${args.join(" ")}: ${r.stderr}`);
      assert.deepEqual(
        hostileControls(r.stdout + r.stderr),
        [],
        `clawos ${args.join(" ")} printed:\n${r.stdout}`,
      );
      // The rest of the planted text is still shown, so a person sees what was there.
      if (args[1] === "show") assert.match(r.stdout, /pwned/);
      assert.ok(!(r.stdout + r.stderr).includes(CLIPBOARD));
    }
  });

  test("a timestamp that is not one shows as unknown, never NaN", async () => {
    const inbox = join(world.blackboard, "requests", "alpha");
    await mkdir(inbox, { recursive: true });
    const id = "req_20260301_120000_0000cafe";
    await writeFile(
      join(inbox, `${id}.json`),
      JSON.stringify({
        schema: "clawos.task/1",
        id,
        target: "alpha",
        priority: "P2",
        text: "a task with a broken clock",
        tags: [],
        createdAt: "yesterday-ish",
        createdBy: "mallory",
        attempt: 1,
        maxAttempts: 3,
        route: { node: "alpha", transport: "blackboard", reason: "planted", decidedAt: "whenever" },
        history: [],
      }),
    );
    const show = await world.run(["tasks", "show", id]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /Created\s+yesterday-ish \(age unknown\)/);
    for (const args of [["tasks", "show", id], ["tasks", "list"], ["status"], ["nodes", "list"]]) {
      const r = await world.run(args);
      assert.doesNotMatch(r.stdout, /NaN/, `clawos ${args.join(" ")} printed:\n${r.stdout}`);
    }
  });
});
