import assert from "node:assert/strict";
import { hostname } from "node:os";
import { describe, test } from "node:test";
import { UserError } from "../../../../source/core/domain/errors.js";
import { NodeConfig } from "../../../../source/core/domain/schema.js";
import { parseConfig, routeOf, thisMachine } from "../../../../source/core/infra/config.js";

describe("config parsing", () => {
  test("a valid JSON5 file with comments parses, defaults filled in", () => {
    const c = parseConfig(
      `// hub\n{ nodes: [ { id: "alpha", machine: "mac-mini", port: 18790, profile: "alpha" } ] }`,
      "/x/federation.json",
    );
    assert.equal(c.nodes?.[0]?.agent, "main");
    assert.deepEqual(c.nodes?.[0]?.token, { profile: true });
    assert.equal(c.blackboard.driver, "directory");
  });
  test("errors name the file, the field and a fix", () => {
    const check = (raw: string, pattern: RegExp) => {
      assert.throws(
        () => parseConfig(raw, "/home/u/.openclaw/clawos/federation.json"),
        (e: unknown) => e instanceof UserError && pattern.test(e.message) && Boolean(e.hint),
      );
    };
    check("{ nodes: [ { id: 'Bad Id', machine: 'm', port: 1 } ] }", /field "nodes\.0\.id"/);
    check("{ nodes: [ { id: 'a', machine: 'm', port: 70000 } ] }", /field "nodes\.0\.port"/);
    check(
      "{ nodes: [ { id: 'a', machine: 'm', port: 1, token: { file: 'x', env: 'Y' } } ] }",
      /nodes\.0\.token/,
    );
    check(
      "{ nodes: [ { id: 'a', machine: 'm', port: 1 }, { id: 'a', machine: 'm', port: 2 } ] }",
      /listed twice/,
    );
    check("{ nodes: [", /not valid JSON/);
    check("{ colour: 'blue' }", /colour|root/);
    check("{ blackboard: { driver: 'directory', archiveAfterDays: 0 } }", /blackboard\.archiveAfterDays/);
    const kept = parseConfig(
      "{ blackboard: { driver: 'nats', servers: ['nats://127.0.0.1:4222'], archiveAfterDays: 30 } }",
      "/x/federation.json",
    );
    assert.equal(kept.blackboard.driver === "nats" && kept.blackboard.archiveAfterDays, 30);
  });
  test("the seed's node table is representable, planned node included", () => {
    const nodes = [
      { id: "alpha", machine: "mac-mini", port: 18790, profile: "alpha", notes: "Quant node, running" },
      { id: "mac-mini", machine: "mac-mini", port: 18789, notes: "Main node" },
      { id: "macbook-air", machine: "macbook-air", port: 18789, notes: "Sleeping, Tailscale 100.71.170.104" },
      { id: "cloud-node", machine: "cloud", port: null, notes: "AWS Lightsail ($5/mo)" },
    ].map((n) => NodeConfig.parse(n));
    assert.deepEqual(
      nodes.map((n) => routeOf(n, "mac-mini")),
      ["localhost", "localhost", "blackboard", "planned"],
    );
  });
});

describe("this machine's name", () => {
  const parsed = (machine?: string) =>
    parseConfig(JSON.stringify(machine ? { machine } : {}), "/x/federation.json");
  test("the file's machine field wins over CLAWOS_MACHINE", () => {
    assert.equal(thisMachine(parsed("mac-mini"), { CLAWOS_MACHINE: "laptop" }), "mac-mini");
  });
  test("CLAWOS_MACHINE, then the hostname, fill it in only when the field is absent", () => {
    assert.equal(thisMachine(parsed(), { CLAWOS_MACHINE: "laptop" }), "laptop");
    assert.equal(thisMachine(parsed(), {}), hostname());
  });
});
