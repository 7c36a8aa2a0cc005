import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gatewaysInListing } from "../../../../source/core/ops/migration-ports.js";
import { modelSourceOf } from "../../../../source/core/ops/model-source.js";

describe("a model for a new node, from an existing profile", () => {
  const config = {
    gateway: { port: 18789, auth: { token: "not-copied" } },
    models: {
      providers: {
        fake: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "sk-inline", api: "openai-completions" },
        spare: { baseUrl: "http://127.0.0.1:8/v1", apiKey: ["$", "{SPARE_KEY}"].join("") },
        unused: { baseUrl: "http://x", apiKey: "sk-unused" },
      },
    },
    agents: { defaults: { model: { primary: "fake/m1", fallbacks: ["spare/m2"] }, workspace: "/w" } },
    auth: {
      profiles: { "fake:default": { provider: "fake", mode: "api_key" }, "other:x": {} },
      order: { fake: ["fake:default"] },
    },
  };

  test("the model, the providers it names and their auth entries travel; nothing else (no gateway token)", () => {
    const source = modelSourceOf(config, "main", "beta");
    assert.ok(source);
    assert.equal(source.primary, "fake/m1");
    assert.deepEqual(source.patch, {
      agents: { defaults: { model: { primary: "fake/m1", fallbacks: ["spare/m2"] } } },
      models: { providers: { fake: config.models.providers.fake, spare: config.models.providers.spare } },
      auth: {
        profiles: { "fake:default": { provider: "fake", mode: "api_key" } },
        order: { fake: ["fake:default"] },
      },
    });
    assert.match(source.auth, /its key is copied into the new profile's openclaw\.json \(mode 0600\)/);
    assert.equal(source.missingAuth, undefined);
  });

  test("a key held elsewhere is named with what the new node needs, never copied blindly", () => {
    const env = modelSourceOf({ ...config, agents: { defaults: { model: "spare/m2" } } }, "main", "beta");
    assert.match(
      env?.auth ?? "",
      /the key comes from \$SPARE_KEY: the new gateway needs it in its environment too/,
    );
    // The key is in the profile's own SQLite auth store: the fix names the command.
    const store = modelSourceOf(
      { agents: { defaults: { model: { primary: "openai/gpt-5" } } } },
      "main",
      "beta",
    );
    assert.equal(
      store?.missingAuth,
      "give the new node a key: openclaw --profile beta models auth paste-api-key --provider openai",
    );
    assert.equal(
      modelSourceOf({ gateway: {} }, "main", "beta"),
      undefined,
      "no model named: nothing to copy",
    );
  });
});

describe("migration keeps 120 ports from the gateways already there", () => {
  test("the profiles' ports are read from the listing (OpenClaw's default when unset or unreadable)", () => {
    const listing = [
      "",
      "@@clawos-profile .openclaw",
      "{ gateway: { port: 18789 } } // json5",
      "@@clawos-profile .openclaw-work",
      "{ gateway: {} }",
      "@@clawos-profile .openclaw-bad",
      "{ not json",
    ].join("\n");
    assert.deepEqual(gatewaysInListing(listing), [
      { id: "main", port: 18789, profile: null },
      { id: "work", port: 18789, profile: "work" },
      { id: "bad", port: 18789, profile: "bad" },
    ]);
  });
});
