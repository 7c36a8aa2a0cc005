/** Keeping the registry right as things change, through the real CLI (found in a user trial). */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { textColumnWidth } from "../../source/cli/status-report.js";
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

  test("status gives free-text columns most of the terminal, and plenty in a pipe", () => {
    assert.equal(textColumnWidth(60), 48);
    assert.equal(textColumnWidth(100), 70);
    assert.equal(textColumnWidth(250), 160);
    assert.equal(textColumnWidth(undefined), 160);
  });
});
