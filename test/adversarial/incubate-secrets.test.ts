import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { installFakeOpenclaw } from "../testkit/fake-openclaw.js";

describe("incubate keeps secrets out of ps", () => {
  let world: World;

  before(async () => {
    world = await makeWorld();
    await world.writeProfile(null, profileConfig(18789, "main-token"));
    assert.equal((await world.run(["init"])).code, 0);
  });
  after(async () => {
    await world.cleanup();
  });

  test("neither the gateway token nor the model API key is on any openclaw command line, and both still arrive", async () => {
    const bin = join(world.home, "fakebin");
    await installFakeOpenclaw(bin);
    const calls = join(world.home, "openclaw-calls.jsonl");
    const apiKey = "sk-model-key-0123456789abcdef";
    const r = await world.run(
      [
        "incubate",
        "secret",
        "--model-base-url",
        "http://127.0.0.1:9/v1",
        "--model-id",
        "m1",
        "--model-api-key-env",
        "MY_MODEL_KEY",
      ],
      { env: { PATH: `${bin}:${process.env.PATH}`, FAKE_OPENCLAW_CALLS: calls, MY_MODEL_KEY: apiKey } },
    );
    assert.equal(r.code, 0, r.stderr);

    const token = (await readFile(join(world.clawosHome, "tokens", "secret.token"), "utf8")).trim();
    const log = (await readFile(calls, "utf8")).trim().split("\n");
    const recorded = log.map((line) => JSON.parse(line) as { argv: string[]; CUSTOM_API_KEY?: string });
    assert.ok(
      recorded.some((c) => c.argv.includes("onboard")),
      "onboard ran",
    );
    for (const call of recorded) {
      const argv = call.argv.join(" ");
      assert.ok(!argv.includes(token), `the gateway token is on a command line: openclaw ${call.argv[2]}`);
      assert.ok(!argv.includes(apiKey), `the model key is on a command line: openclaw ${call.argv[2]}`);
    }
    // The key reached onboard through its environment (readable only by this user), and both
    // secrets ended up where the gateway reads them: its 0600 openclaw.json.
    const onboard = recorded.find((c) => c.argv.includes("onboard"))!;
    assert.equal(onboard.CUSTOM_API_KEY, apiKey);
    const file = join(world.home, ".openclaw-secret", "openclaw.json");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const profile = JSON.parse(await readFile(file, "utf8"));
    assert.equal(profile.gateway.auth.token, token);
    assert.equal(profile.models.providers.custom.apiKey, apiKey);
  });
});
