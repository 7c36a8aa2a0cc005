import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
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

  test("--model-from copies the provider, model and inline key file to file: never on a command line or in the output", async () => {
    const bin = join(world.home, "fakebin");
    await installFakeOpenclaw(bin);
    const calls = join(world.home, "openclaw-calls-copy.jsonl");
    const apiKey = "sk-copied-key-fedcba9876543210";
    await world.writeProfile(
      "donor",
      `{
  gateway: { mode: "local", port: 19029, bind: "loopback", auth: { mode: "token", token: "donor-token" } },
  models: { providers: { acme: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "${apiKey}", api: "openai-completions", models: [{ id: "m2", name: "m2" }] },
                         other: { baseUrl: "http://127.0.0.1:8/v1", apiKey: "sk-not-needed" } } },
  agents: { defaults: { model: { primary: "acme/m2" } } },
}`,
    );
    assert.equal((await world.run(["init"])).code, 0);
    const r = await world.run(["incubate", "copied", "--model-from", "donor"], {
      env: { PATH: `${bin}:${process.env.PATH}`, FAKE_OPENCLAW_CALLS: calls },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /model: acme\/m2 from donor; its key is copied into the new profile's openclaw\.json \(mode 0600\)/,
    );
    assert.match(r.stdout, /Model: acme\/m2 \(from donor\)/);
    for (const output of [r.stdout, r.stderr])
      assert.ok(!output.includes(apiKey), "the key is never printed");
    for (const line of (await readFile(calls, "utf8")).trim().split("\n")) {
      const call = JSON.parse(line) as { argv: string[] };
      assert.ok(
        !call.argv.join(" ").includes(apiKey),
        `the key is on a command line: openclaw ${call.argv[2]}`,
      );
    }
    const file = join(world.home, ".openclaw-copied", "openclaw.json");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const profile = JSON.parse(await readFile(file, "utf8"));
    assert.equal(profile.models.providers.acme.apiKey, apiKey);
    assert.equal(profile.agents.defaults.model.primary, "acme/m2");
    assert.equal(profile.models.providers.other, undefined, "only the providers the model names");
  });

  test("--model-api-key-file: the key goes from its file to the profile, the file's contents never echoed on error", async () => {
    const bin = join(world.home, "fakebin");
    const keyFile = join(world.home, "model.key");
    const apiKey = "sk-from-a-file-00112233";
    await writeFile(keyFile, `${apiKey}\n`, { mode: 0o600 });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const base = ["--model-base-url", "http://127.0.0.1:9/v1", "--model-id", "m3"];
    const r = await world.run(["incubate", "keyed", ...base, "--model-api-key-file", keyFile], { env });
    assert.equal(r.code, 0, r.stderr);
    const profile = JSON.parse(await readFile(join(world.home, ".openclaw-keyed", "openclaw.json"), "utf8"));
    assert.equal(profile.models.providers.custom.apiKey, apiKey);
    assert.ok(!r.stdout.includes(apiKey) && !r.stderr.includes(apiKey));
    const missing = await world.run(
      ["incubate", "nokey", ...base, "--model-api-key-file", join(world.home, "nope")],
      {
        env,
      },
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--model-api-key-file .*nope: no key there/);
  });
});
