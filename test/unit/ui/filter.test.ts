import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeMatches, parseFilter, taskMatches } from "../../../source/ui/features/filter/query.js";
import { seedNodes, seedTasks } from "../../testkit/fake-federation.js";

const ids = (filter: string) =>
  seedTasks()
    .filter((t) => taskMatches(t, parseFilter(filter)))
    .map((t) => t.id);

describe("filter parsing", () => {
  it("parses free text and field:value terms", () => {
    const f = parseFilter('state:pending,running node:alpha "two words" -priority:P1 plain');
    assert.deepEqual(f.errors, []);
    assert.deepEqual(f.terms, [
      { kind: "field", field: "state", values: ["pending", "running"], negate: false },
      { kind: "field", field: "node", values: ["alpha"], negate: false },
      { kind: "text", value: "two words", negate: false },
      { kind: "field", field: "priority", values: ["p1"], negate: true },
      { kind: "text", value: "plain", negate: false },
    ]);
  });

  it("knows short aliases and reports unknown fields", () => {
    assert.deepEqual(parseFilter("s:failed").terms[0], {
      kind: "field",
      field: "state",
      values: ["failed"],
      negate: false,
    });
    const f = parseFilter("colour:red");
    assert.equal(f.terms.length, 0);
    assert.match(f.errors[0] ?? "", /unknown field 'colour:'/);
    assert.match(parseFilter("state:").errors[0] ?? "", /needs a value/);
  });

  it("keeps things like URLs as free text", () => {
    assert.deepEqual(parseFilter("http://x").terms, [{ kind: "text", value: "http://x", negate: false }]);
  });
});

describe("filter matching", () => {
  it("matches tasks by state prefix, node, target, priority and id", () => {
    assert.deepEqual(ids("state:run"), ["req_20260227_203220_e68aee2d"]);
    assert.deepEqual(ids("node:alpha"), ["req_20260227_203220_e68aee2d"]);
    assert.deepEqual(ids("target:any"), ["req_20260227_203300_0badc0de"]);
    assert.deepEqual(ids("priority:1"), ["req_20260227_203300_0badc0de"]);
    assert.deepEqual(ids("id:195930"), ["req_20260227_195930"]);
    assert.equal(ids("state:pending,failed").length, 2);
    assert.equal(ids("-state:completed").length, 3);
  });

  it("matches free text case-insensitively, CJK included", () => {
    assert.deepEqual(ids("插件"), ["req_20260227_200645"]);
    assert.deepEqual(ids("AUTHENTICATION"), ["req_20260227_203300_0badc0de"]);
    assert.equal(ids("").length, 4);
    assert.deepEqual(ids("python 函数"), ["req_20260227_195930"]);
  });

  it("on nodes, state: is the node status and node:/id: its id", () => {
    const match = (filter: string) =>
      seedNodes()
        .filter((n) => nodeMatches(n, parseFilter(filter)))
        .map((n) => n.id);
    assert.deepEqual(match("state:online"), ["alpha", "mac-mini"]);
    assert.deepEqual(match("node:mac"), ["mac-mini", "macbook-air"]);
    assert.deepEqual(match("lightsail"), ["cloud-node"]);
    assert.deepEqual(match("priority:P0"), [], "task-only fields never match nodes");
  });
});
