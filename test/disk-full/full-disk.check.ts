/**
 * A real full disk under the blackboard (a small tmpfs mounted by run.sh): every write that
 * does not fit says so in one line, nothing half-written is ever published, and no task is lost.
 * Run with `npm run test:disk-full` (needs root or sudo for the mount).
 */
import assert from "node:assert/strict";
import { open, readdir, rm, stat, statfs, truncate } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { editConfig, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const DISK = process.env.CLAWOS_FULL_DISK_DIR;
const BIG_REPLY = `${"a long answer ".repeat(21_000)}END`; // ~294 KB

/** Fill the disk, then give back exactly enough for `free` bytes (tmpfs counts whole pages). */
async function leaveFree(filler: string, free: number): Promise<void> {
  await rm(filler, { force: true });
  const handle = await open(filler, "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    await handle.close();
  }
  const { size } = await stat(filler);
  await truncate(filler, Math.max(0, size - free));
  const fs = await statfs(DISK!);
  assert.ok(fs.bavail * fs.bsize <= free + 8192, "the disk is as full as asked");
}

describe("a full disk under the blackboard", () => {
  let world: World;
  let main: StubGateway;
  let board: string;
  let filler: string;

  before(async () => {
    assert.ok(
      DISK,
      "run this through test/disk-full/run.sh (npm run test:disk-full): it mounts the small disk",
    );
    board = join(DISK, "board");
    filler = join(DISK, "filler");
    world = await makeWorld();
    main = await startStubGateway({ token: "main-secret", reply: BIG_REPLY, deltas: 8 });
    await world.writeProfile(null, profileConfig(main.port, "main-secret"));
    assert.equal((await world.run(["init"])).code, 0);
    await editConfig(world, (config) => {
      config.blackboard = { driver: "directory", path: board, coordinator: "hub" };
      config.timing = { leaseMs: 1000 };
    });
    // The registry lives on the blackboard: register the nodes on the small disk's board.
    const again = await world.run(["init"]);
    assert.equal(again.code, 0, again.stderr);
    const add = await world.run(["nodes", "add", "remote", "--machine", "laptop", "--port", "18789"]);
    assert.equal(add.code, 0, add.stderr);
  });
  after(async () => {
    await rm(filler, { force: true });
    await main.close();
    await world.cleanup();
  });

  test("a task too big for the space left is refused whole: nothing half-written, nothing listed", async () => {
    assert.equal((await world.run(["status"])).code, 0); // the board's folders exist before the disk fills
    await leaveFree(filler, 40 * 1024);
    const r = await world.run(["dispatch", "b".repeat(90_000), "--to", "remote"]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /The disk holding .* is full; nothing was written\.\n {2}fix: free some space/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.deepEqual(await readdir(join(board, "requests", "remote")).catch(() => []), []);
    const listed = JSON.parse((await world.run(["tasks", "list", "--json"])).stdout) as {
      tasks: unknown[];
      problems?: string[];
    };
    assert.deepEqual(listed.tasks, []);
    assert.deepEqual(listed.problems ?? [], []);
    await rm(filler);
  });

  test("a cancel that does not fit changes nothing", async () => {
    const queued = await world.run(["dispatch", "later, on the laptop", "--to", "remote", "--json"]);
    const { id } = JSON.parse(queued.stdout) as { id: string };
    await leaveFree(filler, 0);
    const r = await world.run(["tasks", "cancel", id]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /is full; nothing was written/);
    await rm(filler);
    const show = await world.run(["tasks", "show", id]);
    assert.match(show.stdout, /State\s+pending\n/);
    assert.doesNotMatch(show.stdout, /cancel requested/);
    const again = await world.run(["tasks", "cancel", id]);
    assert.equal(again.code, 0, `with space again it works: ${again.stderr}`);
  });

  test("an answer whose result does not fit is not lost: it runs again once there is space", async () => {
    await leaveFree(filler, 120 * 1024);
    const r = await world.run(["dispatch", "write a lot", "--to", "hub", "--wait"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is full; nothing was written/);
    const id = /(req_\d{8}_\d{6}_[0-9a-f]{8})/.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    assert.deepEqual(
      (await readdir(join(board, "results"))).filter((name) => name.startsWith(id)),
      [],
      "no truncated result",
    );
    const kept = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as { state: string };
    assert.ok(["claimed", "running"].includes(kept.state), kept.state);

    await rm(filler);
    // The hub's worker from cron: the first run sees the abandoned lease, a later one reaps it.
    assert.equal((await world.run(["node", "run", "--node", "hub", "--once"])).code, 0);
    await sleep(1_200); // longer than the 1 s lease set above
    const second = await world.run(["node", "run", "--node", "hub", "--once"]);
    assert.equal(second.code, 0, second.stderr);
    const done = JSON.parse((await world.run(["tasks", "show", id, "--json"])).stdout) as {
      state: string;
      reply: string;
      attempt: number;
    };
    assert.equal(done.state, "completed");
    assert.equal(done.reply, BIG_REPLY);
    assert.equal(done.attempt, 2);
  });
});
