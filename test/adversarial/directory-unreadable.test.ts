/**
 * One unreadable record (mode 000) in an inbox must not block that node: readers report it and
 * go on, the rest of the inbox is claimed, and the coordinator moves it aside (a rename needs no
 * read permission). Root ignores mode 000, so as root the reader runs as nobody.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, chown, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { makeRequest } from "../integration/blackboard/contract.js";
import { withBoard } from "./directory-world.js";

const CHILD = fileURLToPath(new URL("./directory-reader-child.js", import.meta.url));
const NOBODY = 65534;

async function chownTree(dir: string): Promise<void> {
  await chown(dir, NOBODY, NOBODY);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path);
    else await chown(path, NOBODY, NOBODY);
  }
}

test("an unreadable record is reported and set aside; the rest of the inbox flows on", async () => {
  await withBoard({}, async ({ bb, root }) => {
    const good = [makeRequest({ node: "main" }), makeRequest({ node: "main" })];
    for (const r of good) await bb.enqueue(r);
    const locked = makeRequest({ node: "main", priority: "P0" }); // first in line
    const lockedPath = join(root, "requests", "main", `${locked.id}.json`);
    await writeFile(lockedPath, JSON.stringify(locked));
    await chmod(lockedPath, 0o000);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chownTree(root);

    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CHILD, root], {
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    const seen = JSON.parse(stdout) as {
      error?: string;
      problems: string[];
      claimed: string[];
      after: string[];
    };
    assert.equal(seen.error, undefined, `${seen.error} ${stderr}`);
    assert.ok(
      seen.problems.some((p) => p.includes(locked.id) && /cannot be read \(no permission\)/.test(p)),
      seen.problems.join("\n"),
    );
    assert.deepEqual(seen.claimed.sort(), good.map((r) => r.id).sort(), "both readable tasks are claimed");
    const reasons = (await readdir(join(root, "quarantine"))).filter((n) => n.endsWith(".reason"));
    assert.equal(reasons.length, 1, "set aside with a reason");
    assert.match(
      await readFile(join(root, "quarantine", reasons[0]!), "utf8"),
      /cannot be read \(no permission\)/,
    );
    assert.ok(!(await readdir(join(root, "requests", "main"))).includes(`${locked.id}.json`), "moved aside");
    assert.ok(
      seen.after.some((p) => /1 malformed file set aside/.test(p)),
      seen.after.join("\n"),
    );
  });
});
