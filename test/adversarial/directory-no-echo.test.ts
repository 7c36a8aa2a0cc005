/**
 * Readers never follow a linked record file and never repeat a record's bytes: not in list()
 * problems (status, doctor, --json), not in the coordinator's log, not in quarantine/*.reason,
 * which syncs to every machine. Hostile fields (escape sequences) never crash a reader either.
 */
import assert from "node:assert/strict";
import { readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeRequest } from "../integration/blackboard/contract.js";
import { coordinate, outsideDir, snapshot, withBoard } from "./directory-world.js";

const SECRET = "SECRETKEYBYTES";

test("a linked or broken record is reported by the kind of problem, never by its contents, and never followed", async () => {
  await withBoard({}, async (board) => {
    const { bb, root } = board;
    const inbox = join(root, "requests", "main");
    await bb.enqueue(makeRequest({ node: "main" }));
    const ssh = await outsideDir(board, { id_ed25519: `${SECRET} private key\n` });
    const linked = makeRequest({ node: "main" }).id;
    await symlink(join(ssh, "id_ed25519"), join(inbox, `${linked}.json`));
    const notJson = makeRequest({ node: "main" }).id;
    await writeFile(join(inbox, `${notJson}.json`), `${SECRET} \u001b]52;c;Y2xpcA==\u0007 not json`);
    const badField = makeRequest({ node: "main" });
    await writeFile(
      join(inbox, `${badField.id}.json`),
      JSON.stringify({ ...badField, priority: `${SECRET}\u001b[2J`, [`\u001b]0;${SECRET}\u0007`]: 1 }),
    );
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    for (const id of [notJson, badField.id])
      await utimes(join(inbox, `${id}.json`), tenMinutesAgo, tenMinutesAgo);
    const before = await snapshot(ssh);

    const { problems } = await bb.list();
    const log = await coordinate(bb);
    const reasons = await Promise.all(
      (await readdir(join(root, "quarantine")))
        .filter((n) => n.endsWith(".reason"))
        .map((n) => readFile(join(root, "quarantine", n), "utf8")),
    );
    const everything = [...problems, ...log, ...reasons].join("\n");
    assert.ok(
      problems.some((p) => p.includes(linked) && /symbolic link/.test(p)),
      everything,
    );
    assert.ok(
      problems.some((p) => p.includes(notJson) && /is not valid JSON/.test(p)),
      everything,
    );
    assert.ok(
      problems.some((p) => p.includes(badField.id) && /field "priority"/.test(p)),
      everything,
    );
    assert.equal(reasons.length, 2, `the two broken regular files are set aside:\n${everything}`);
    assert.ok(!everything.includes(SECRET), `no byte of a record is repeated:\n${everything}`);
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(everything), "no control character");
    assert.equal(await snapshot(ssh), before, "the link's target is untouched");
    assert.ok((await readdir(inbox)).includes(`${linked}.json`), "the link itself is left alone");
    assert.equal((await bb.claim("main"))?.request.route.node, "main", "the good task still flows");
  });
});
