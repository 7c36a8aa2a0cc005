/** Keeping the registry right as things change, through the real CLI (found in a user trial). */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";

describe("the registry as profiles and nodes change", () => {
  let world: World;

  before(async () => {
    world = await makeWorld();
    await world.writeProfile(null, profileConfig(28789, "main-secret"));
    assert.equal((await world.run(["init"])).code, 0);
  });
  after(async () => {
    await world.cleanup();
  });

  const nodePorts = async () =>
    Object.fromEntries(
      (
        JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as { id: string; port: number }[]
      ).map((n) => [n.id, n.port]),
    );

  test("init follows a profile whose gateway moved to another port", async () => {
    await world.writeProfile(null, profileConfig(28809, "main-secret"));
    const r = await world.run(["init"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /node hub moved from port 28789 to 28809/);
    assert.equal((await nodePorts()).hub, 28809);
  });

  test("init that finds nothing new writes nothing (a rewrite would restart every worker)", async () => {
    const path = join(world.clawosHome, "federation.json");
    const before = await stat(path);
    const r = await world.run(["init"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already registered/);
    assert.match(r.stdout, /Nothing new: .*federation\.json is unchanged/);
    const after = await stat(path);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.ino, before.ino, "not replaced either");

    const empty = await makeWorld();
    try {
      const none = await empty.run(["init"]);
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /No OpenClaw profile found/);
      assert.match(none.stdout, /Nothing written\. Add a node by hand/);
      await assert.rejects(stat(join(empty.clawosHome, "federation.json")), /ENOENT/);
    } finally {
      await empty.cleanup();
    }
  });

  test("adding a node on a port another node of that machine uses is flagged", async () => {
    const r = await world.run(["nodes", "add", "twin", "--port", "28809", "--no-token"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: hub has the same port 28809/);
    assert.equal((await world.run(["nodes", "remove", "twin"])).code, 0);
  });

  test("text from stdin loses its trailing newline; a tag no node has is a usage error (2)", async () => {
    assert.equal(
      (await world.run(["nodes", "add", "laptop", "--machine", "mba", "--port", "18789"])).code,
      0,
    );
    const r = await world.run(["dispatch", "-", "--to", "laptop", "--json"], { input: "from stdin\n\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { text: string }).text, "from stdin");
    const tagged = await world.run(["dispatch", "needs a gpu", "--tag", "gpu"]);
    assert.equal(tagged.code, 2, tagged.stderr);
    assert.match(tagged.stderr, /No node with tags gpu can take tasks/);
  });

  test("removing a node that still has unfinished tasks says so and where they are", async () => {
    const r = await world.run(["nodes", "remove", "laptop"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Removed node laptop\./);
    assert.match(r.stderr, /note: 1 unfinished task of laptop stays on the blackboard \(req_/);
  });

  test("piped status fits an 80-column terminal; --wide shows every column", async () => {
    const piped = await world.run(["status"]);
    assert.equal(piped.code, 0, piped.stderr);
    // The title and both tables; a note or a problem line stays whole, to be searched for.
    const lines = piped.stdout.split("\n").filter((l) => !/^(note: |! )/.test(l));
    for (const line of lines) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    const wide = await world.run(["status", "--wide"]);
    assert.match(wide.stdout.split("\n").find((l) => l.startsWith("NODE")) ?? "", /ADDRESS.*HEARTBEAT/);
  });
});
