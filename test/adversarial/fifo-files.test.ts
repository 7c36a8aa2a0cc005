/** A named pipe where clawos expects federation.json or a token file: refused at once, through the real CLI. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { makeWorld, type World } from "../testkit/cli-harness.js";

const mkfifo = (path: string) => promisify(execFile)("mkfifo", [path]);

function assertShortAndPlain(text: string) {
  assert.ok(text.trim().split("\n").length <= 2, `one or two lines:\n${text}`);
  assert.doesNotMatch(text, /\n\s+at /, "no stack trace");
}

describe("a FIFO in place of a file clawos reads", () => {
  let world: World;
  let config: string;

  before(async () => {
    world = await makeWorld();
    await mkdir(world.clawosHome, { recursive: true });
    config = join(world.clawosHome, "federation.json");
  });
  after(async () => {
    await world.cleanup();
  });

  test("federation.json as a FIFO: refused with the fix; a symlink to a regular file still works", async () => {
    await mkfifo(config);
    // The harness fails the test if the command is still hanging after 30 s.
    const r = await world.run(["status"], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /federation\.json is a named pipe \(FIFO\), not a regular file/);
    assert.match(r.stderr, /move it aside and run clawos init/);
    assertShortAndPlain(r.stderr);

    // As a dotfile manager would have it: federation.json links to the real file elsewhere.
    await rm(config);
    const real = join(world.home, "dotfiles-federation.json");
    await writeFile(real, JSON.stringify({ version: 1, machine: "hub", nodes: [] }));
    await symlink(real, config);
    const linked = await world.run(["nodes", "list", "--json"], { timeoutMs: 30_000 });
    assert.equal(linked.code, 0, linked.stderr);
    assert.deepEqual(JSON.parse(linked.stdout), []);
    await rm(config);
  });

  test("a token file that is a FIFO: the node is reported with the problem, nothing hangs", async () => {
    const tokens = join(world.clawosHome, "tokens");
    await mkdir(tokens, { recursive: true });
    await mkfifo(join(tokens, "main"));
    await rm(config, { force: true }); // whatever the case before left there
    await writeFile(
      config,
      JSON.stringify({
        version: 1,
        machine: "hub",
        nodes: [{ id: "main", machine: "hub", host: "127.0.0.1", port: 9, token: { file: "tokens/main" } }],
      }),
    );
    const probe = await world.run(["nodes", "probe", "main"], { timeoutMs: 30_000 });
    assert.equal(probe.code, 1, probe.stderr);
    assert.match(
      `${probe.stdout}${probe.stderr}`,
      /token file \S+tokens\/main: it is a named pipe \(FIFO\), not a regular file/,
    );
  });
});
