/**
 * A task `dispatch` reported as queued outlives a power cut: the directory driver flushes the
 * inbox (or claimed/) the new name went into before enqueue returns. A power cut cannot be
 * made here; what is checked is the flush itself, by watching fs.fsync in this process (the
 * file is its own process under node --test, so the patch touches nothing else).
 */
import assert from "node:assert/strict";
import fs, { readlinkSync } from "node:fs";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DirectoryBlackboard } from "../../../../source/core/blackboard/directory/directory.js";
import { makeRequest } from "../../../integration/blackboard/contract.js";

/** The paths fs.fsync was called on, in order. */
const flushed: string[] = [];
const realFsync = fs.fsync;
(fs as unknown as { fsync: typeof fs.fsync }).fsync = ((
  fd: number,
  cb: (e: NodeJS.ErrnoException | null) => void,
) => {
  flushed.push(readlinkSync(`/proc/self/fd/${fd}`));
  realFsync(fd, cb);
}) as typeof fs.fsync;
syncBuiltinESMExports();

describe("a new task's name is flushed before enqueue returns", () => {
  let root: string;
  let bb: DirectoryBlackboard;
  before(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), "clawos-durable-")));
    bb = new DirectoryBlackboard(root);
    await bb.init();
  });
  after(async () => {
    await bb.close();
    await rm(root, { recursive: true, force: true });
  });

  test("enqueue flushes the node's inbox", async () => {
    flushed.length = 0;
    const request = makeRequest({ node: "alpha" });
    assert.deepEqual(await bb.enqueue(request), { created: true });
    assert.ok(flushed.includes(join(root, "requests", "alpha")), `flushed: ${flushed.join(", ")}`);
  });

  test("a task run here (enqueueClaimed) flushes claimed/", async () => {
    flushed.length = 0;
    const claim = await bb.enqueueClaimed(makeRequest({ node: "beta" }));
    assert.ok(claim);
    assert.ok(
      flushed.some((p) => p.startsWith(join(root, "claimed"))),
      `flushed: ${flushed.join(", ")}`,
    );
  });
});
