/**
 * A directory blackboard is shared with other machines: a link planted in it must never lead
 * the coordinator out of it. Repro: links planted as requests/<x>, claimed/<x> and tmp/<x>
 * pointing at a folder outside (a stand-in for ~/.ssh) made the coordinator of `clawos node run`
 * move that folder's files into quarantine/, and its temp sweep delete its old files.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, rename, stat, symlink, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeRequest, resultFor } from "../integration/blackboard/contract.js";
import { coordinate, outsideDir, snapshot, withBoard } from "./directory-world.js";

test("links planted in requests/, claimed/ and tmp/ are never followed: the folders they point at stay byte-identical", async () => {
  await withBoard({}, async (board) => {
    const { bb, root } = board;
    const honest = makeRequest({ node: "main" });
    await bb.enqueue(honest);
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    const ssh = await outsideDir(board, {
      id_ed25519:
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
      "id_ed25519.pub": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA user@laptop\n",
      "req_20260301_120000_0badc0de.json": "not a task at all",
    });
    const docs = await outsideDir(board, { "notes.txt": "two hours of work" });
    for (const name of await readdir(ssh)) await utimes(join(ssh, name), twoHoursAgo, twoHoursAgo);
    await utimes(join(docs, "notes.txt"), twoHoursAgo, twoHoursAgo);
    await symlink(ssh, join(root, "requests", "evil"));
    await symlink(ssh, join(root, "claimed", "evil"));
    await symlink(docs, join(root, "tmp", "p1-evil"));
    const before = { ssh: await snapshot(ssh), docs: await snapshot(docs) };

    const log = [...(await coordinate(bb)), ...(await coordinate(bb))];
    const claim = await bb.claim("main");
    assert.equal(claim?.request.id, honest.id, "the honest task is still claimed");
    assert.equal(await bb.claim("evil"), undefined, "nothing is claimed through the link");
    assert.equal(await bb.complete(claim!, resultFor(claim!)), true);

    assert.equal(
      await snapshot(ssh),
      before.ssh,
      "the folder behind requests/evil and claimed/evil is untouched",
    );
    assert.equal(await snapshot(docs), before.docs, "the folder behind tmp/p1-evil is untouched");
    assert.deepEqual(await readdir(join(root, "quarantine")), [], "nothing was moved into quarantine/");
    // Reported once per process, with what it is and where it points; the links stay where they are.
    for (const where of ["requests/evil", "claimed/evil", "tmp/p1-evil"]) {
      const lines = log.filter((l) => l.startsWith(`left alone: ${where} is a symbolic link`));
      assert.equal(lines.length, 1, `${where} reported once:\n${log.join("\n")}`);
    }
    assert.ok(
      log.some((l) => l.includes(`requests/evil is a symbolic link (to ${ssh})`)),
      log.join("\n"),
    );
    const { problems } = await bb.list();
    assert.ok(
      problems.some((p) =>
        /^requests\/evil is a symbolic link \(to .*\) where a directory should be/.test(p),
      ),
      problems.join("\n"),
    );
  });
});

test("a claim file swapped for a link loses the claim: renewing it never touches what the link points at", async () => {
  await withBoard({}, async (board) => {
    const { bb } = board;
    await bb.enqueue(makeRequest({ node: "main" }));
    const claim = await bb.claim("main");
    assert.ok(claim);
    const outside = await outsideDir(board, { authorized_keys: "ssh-ed25519 AAAA user@laptop\n" });
    const target = join(outside, "authorized_keys");
    const longAgo = new Date("2020-01-01T00:00:00Z");
    await utimes(target, longAgo, longAgo);
    await unlink(claim.handle);
    await symlink(target, claim.handle);

    assert.equal(await bb.renew(claim), false, "the holder learns it lost the claim");
    assert.equal((await stat(target)).mtimeMs, longAgo.getTime(), "the file behind the link keeps its times");
  });
});

/**
 * Each directory is checked from the root down once, then by one lstat of its own (safe-fs.ts):
 * a directory that passed a check and was swapped for a link afterwards, at any level, is
 * refused at its next use just the same.
 */
test("directories swapped for links after they were checked are refused: nothing is claimed, moved or written through them", async () => {
  await withBoard({}, async (board) => {
    const { bb, root } = board;
    // One whole round first: every directory a claim and a completion use has passed its check.
    await bb.enqueue(makeRequest({ node: "main" }));
    const first = await bb.claim("main");
    assert.ok(first);
    assert.equal(await bb.complete(first, resultFor(first)), true);

    // The inbox, swapped for a link to a folder that holds a well-formed task for it.
    const planted = makeRequest({ node: "main" });
    const inboxVictim = await outsideDir(board, { [`${planted.id}.json`]: JSON.stringify(planted) });
    await rename(join(root, "requests", "main"), join(root, "requests-main-aside"));
    await symlink(inboxVictim, join(root, "requests", "main"));
    const inboxBefore = await snapshot(inboxVictim);
    assert.equal(await bb.claim("main"), undefined, "nothing is claimed through the swapped inbox");
    assert.equal(await snapshot(inboxVictim), inboxBefore, "the folder behind requests/main is untouched");
    await unlink(join(root, "requests", "main"));
    await rename(join(root, "requests-main-aside"), join(root, "requests", "main"));

    // A level higher: claimed/ itself, swapped for a link to a folder with a main/ inside.
    const honest = makeRequest({ node: "main" });
    await bb.enqueue(honest);
    const claimedVictim = await outsideDir(board, {});
    await mkdir(join(claimedVictim, "main"));
    await rename(join(root, "claimed"), join(root, "claimed-aside"));
    await symlink(claimedVictim, join(root, "claimed"));
    const claimedBefore = await snapshot(claimedVictim);
    await assert.rejects(bb.claim("main"), { code: "foreign_dir" }, "the claim stops at the link");
    assert.equal(
      await snapshot(claimedVictim),
      claimedBefore,
      "nothing was moved into the folder behind claimed/",
    );
    assert.deepEqual(
      await readdir(join(root, "requests", "main")),
      [`${honest.id}.json`],
      "the task still waits",
    );
    await unlink(join(root, "claimed"));
    await rename(join(root, "claimed-aside"), join(root, "claimed"));

    // results/, swapped while a claim is held: the result is not written behind it.
    const held = await bb.claim("main");
    assert.equal(held?.request.id, honest.id);
    const resultsVictim = await outsideDir(board, {});
    await rename(join(root, "results"), join(root, "results-aside"));
    await symlink(resultsVictim, join(root, "results"));
    await assert.rejects(bb.complete(held!, resultFor(held!)), { code: "foreign_dir" });
    assert.deepEqual(
      await readdir(resultsVictim),
      [],
      "no result was linked into the folder behind results/",
    );
    assert.ok(
      (await readdir(join(root, "claimed", "main"))).some((n) => n.startsWith(honest.id)),
      "the task stays claimed: its lease runs out and it is handed out again",
    );
  });
});
