import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { z } from "zod";
import {
  checkAuditEntry,
  checkChatChunk,
  checkFederationConfig,
  checkModelList,
  checkNodeDefinition,
  checkNodeStatusRecord,
  checkTaskRequest,
  checkTaskResult,
} from "../../../../source/core/domain/fast-checks.js";
import { NodeDefinition } from "../../../../source/core/domain/registry.js";
import {
  FederationConfig,
  NodeStatusRecord,
  TaskRequest,
  TaskResult,
} from "../../../../source/core/domain/schema.js";
import { AuditEntry } from "../../../../source/core/infra/audit-log.js";
import { ChatChunk, ModelList } from "../../../../source/core/transport/gateway-client.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const FINGERPRINT = `SHA256:${"a".repeat(42)}B`;

const configs: Json[] = [
  {},
  { version: 2, machine: "hub" },
  {
    version: 2,
    machine: "hub",
    blackboard: { driver: "directory", coordinator: "hub", path: "/srv/board", archiveAfterDays: 2 },
    timing: { leaseMs: 5000, maxAttempts: 5, heartbeatMs: 200 },
    worker: { autoStart: false },
    tokens: {
      main: { profile: true },
      alpha: { file: "/t/alpha" },
      beta: { env: "BETA_TOKEN" },
      c: { none: true },
    },
    ssh: { alpha: { identityFile: "~/.ssh/id_ed25519", knownHosts: "~/.ssh/known_hosts" }, beta: {} },
    keys: { quit: "Q", up: ["k", "K"] },
    serveRoles: { [FINGERPRINT]: "operator" },
  },
  {
    version: 1,
    blackboard: { driver: "nats", servers: ["nats://127.0.0.1:4222"], domain: "hub", archiveAfterDays: 7 },
  },
];
/** Left to zod on purpose (rare sections): the fast check must say nothing, zod still decides. */
const rareConfigs: Json[] = [
  { nodes: [{ id: "main", machine: "hub", port: 18789 }] },
  { alerts: { command: ["notify-send"] } },
  { budget: { tokens: 1000 } },
  { prices: { alpha: { prompt: 1, completion: 2 } } },
];

const activeNode = {
  schema: "clawos.node/1",
  id: "alpha",
  owner: "hub",
  generation: 3,
  updatedAt: "2026-12-06T05:00:00.000Z",
  state: "active",
  node: { id: "alpha", machine: "hub", port: 18789 },
};
const definitions: Json[] = [
  activeNode,
  {
    ...activeNode,
    node: {
      id: "alpha",
      machine: "mac-mini",
      transport: "ssh",
      host: "10.0.0.2",
      port: null,
      profile: "alpha",
      agent: "coder",
      tags: ["gpu", "fast"],
      ssh: { target: "me@mac-mini:2222", remotePort: 18790, whenWorkerSilent: false },
      notes: "planned",
    },
    cordon: { state: "draining", at: "2026-12-06T05:00:00.000Z", by: "root" },
  },
  { schema: "clawos.node/1", id: "gone", owner: "hub", generation: 9, updatedAt: "x", state: "removed" },
];

const statusRecord = {
  schema: "clawos.node-status/1",
  node: "main",
  machine: "hub",
  pid: 4242,
  version: "0.1.0",
  startedAt: "2026-12-06T05:00:00.000Z",
  heartbeatAt: "2026-12-06T05:00:05.000Z",
  state: "running",
  inFlight: ["req_20261206_050000_0a1b2c3d"],
  completed: 10,
  failed: 1,
  gateway: { reachable: true, latencyMs: 1.5, checkedAt: "2026-12-06T05:00:05.000Z", future: 1 },
};
const statuses: Json[] = [
  statusRecord,
  {
    ...statusRecord,
    newerField: { kept: false },
    lastProgressAt: "2026-12-06T05:00:04.000Z",
    gateway: { reachable: false, checkedAt: "t", error: "refused" },
    turn: { at: "t", ok: false, kind: "provider_timeout", error: "slow", hint: "wait" },
    recentLog: [{ at: "t", level: "warn", text: "a line" }],
    usage: [{ day: "2026-12-05", model: "openclaw/main", prompt: 10, completion: 20, tasks: 2 }],
  },
];

/** Values put in place of each field: wrong types, edges, out-of-range numbers, long strings. */
const REPLACEMENTS: Json[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 60,
  65536,
  "",
  "x",
  "any",
  "a".repeat(600),
  true,
  [],
  ["x"],
  {},
  { profile: true },
  // Each side of the bounds the schemas set.
  ...[1, 20, 21, 99, 100, 199, 200, 999, 1000, 3650, 3651, 65535, 1_000_000_000, 1_000_000_001],
  ...[8, 20, 40, 60, 64, 100, 120, 200, 255, 300, 500, 2000].flatMap((n) => [
    "a".repeat(n),
    "a".repeat(n + 1),
  ]),
];

/** Every record obtained from `base` by deleting, replacing or adding one field, at any depth. */
function variants(base: Json, depth = 0): Json[] {
  if (depth > 3 || base === null || typeof base !== "object") return [];
  const out: Json[] = [];
  const entries: [string | number, Json][] = Array.isArray(base)
    ? base.map((v, i) => [i, v])
    : Object.entries(base);
  const withField = (key: string | number, value: Json | undefined): Json => {
    const copy: Json = Array.isArray(base) ? [...base] : { ...base };
    if (value === undefined) {
      if (Array.isArray(copy)) copy.splice(Number(key), 1);
      else delete (copy as Record<string, Json>)[key];
    } else (copy as Record<string, Json>)[key] = value;
    return copy;
  };
  for (const [key, value] of entries) {
    out.push(withField(key, undefined));
    for (const replacement of REPLACEMENTS) out.push(withField(key, replacement));
    for (const deeper of variants(value, depth + 1)) out.push(withField(key, deeper));
  }
  if (!Array.isArray(base)) out.push({ ...base, extra: 1 }, { ...base, id: "Bad_Id" });
  else out.push([...base, "x"], [...base, {}]);
  return out;
}

/** The schema itself, not the fast path in front of it (z.safeParse reads the schema's internals). */
const bySchema = (schema: z.ZodType, input: unknown) => z.safeParse(schema, input);

function compare(
  name: string,
  schema: z.ZodType,
  check: (input: unknown) => unknown,
  good: Json[],
  rare: Json[] = [],
): void {
  describe(name, () => {
    test("accepts every common good record with exactly the schema's output", () => {
      for (const input of good) {
        const expected = bySchema(schema, input);
        assert.ok(expected.success, `the schema refuses a table record: ${JSON.stringify(input)}`);
        const fast = check(input);
        assert.deepStrictEqual(fast, expected.data);
        assert.equal(JSON.stringify(fast), JSON.stringify(expected.data), "same keys in the same order");
        // What parse returns parses to itself (config.ts parses a loaded config again).
        assert.deepStrictEqual(check(fast), expected.data);
      }
    });

    test("never accepts what the schema refuses, nor returns other than the schema (every one-field change)", () => {
      let refused = 0;
      let fastAccepted = 0;
      const all = [...good, ...rare].flatMap((g) => [g, ...variants(g)]);
      for (const input of all) {
        const expected = bySchema(schema, input);
        const fast = check(input);
        if (!expected.success) {
          refused++;
          assert.equal(fast, undefined, `accepted what the schema refuses: ${JSON.stringify(input)}`);
        } else if (fast !== undefined) {
          fastAccepted++;
          assert.deepStrictEqual(fast, expected.data, JSON.stringify(input));
          assert.equal(JSON.stringify(fast), JSON.stringify(expected.data));
        }
      }
      // The table must exercise both sides.
      assert.ok(refused > 50 && fastAccepted > 10, `${refused} refused, ${fastAccepted} accepted fast`);
    });

    test("the schema's own parse and safeParse answer as before, errors included", () => {
      for (const input of [...good, ...rare].flatMap((g) => [g, ...variants(g).slice(0, 60)])) {
        const expected = bySchema(schema, input);
        const got = schema.safeParse(input);
        assert.equal(got.success, expected.success);
        if (expected.success) assert.deepStrictEqual(got.data, expected.data);
        else {
          assert.deepStrictEqual(got.error?.issues, expected.error.issues);
          assert.throws(() => schema.parse(input), z.ZodError);
        }
      }
    });

    if (rare.length > 0) {
      test("rare sections are left to the schema", () => {
        for (const input of rare) {
          assert.equal(check(input), undefined);
          assert.ok(schema.safeParse(input).success, JSON.stringify(input));
        }
      });
    }
  });
}

compare(
  "federation.json: fast check against FederationConfig",
  FederationConfig,
  checkFederationConfig,
  configs,
  rareConfigs,
);
compare(
  "registry records: fast check against NodeDefinition",
  NodeDefinition,
  checkNodeDefinition,
  definitions,
);
compare("heartbeats: fast check against NodeStatusRecord", NodeStatusRecord, checkNodeStatusRecord, statuses);

compare("/v1/models: fast check against the model list schema", ModelList, checkModelList, [
  { object: "list", data: [{ id: "openclaw/main", object: "model", owned_by: "openclaw" }, { id: "" }] },
  { data: [] },
]);

const request = {
  schema: "clawos.task/1",
  id: "req_20261206_050000_0a1b2c3d",
  target: "any",
  priority: "P2",
  text: "summarise the log",
  createdAt: "2026-12-06T05:00:00.000Z",
  createdBy: "root@hub",
  attempt: 1,
  maxAttempts: 3,
  route: { node: "main", transport: "localhost", reason: "least busy", decidedAt: "t", extra: 1 },
};
compare("tasks: fast check against TaskRequest", TaskRequest, checkTaskRequest, [
  request,
  {
    ...request,
    target: "alpha",
    tags: ["gpu"],
    history: [{ at: "t", event: "claimed", detail: "by main" }],
    unknown: "dropped",
  },
]);
const result = {
  schema: "clawos.result/1",
  id: "req_20261206_050000_0a1b2c3d",
  attempt: 1,
  node: "main",
  status: "completed",
  finishedAt: "2026-12-06T05:00:09.000Z",
};
compare("results: fast check against TaskResult", TaskResult, checkTaskResult, [
  result,
  {
    ...result,
    status: "failed",
    text: "partial",
    error: { kind: "timeout", message: "slow", hint: "retry", more: 1 },
    startedAt: "t",
    durationMs: 12.5,
    model: "openclaw/main",
    by: "the worker on hub (pid 42)",
    usage: { prompt: 10, completion: 0 },
  },
]);

const auditEntry = {
  at: "2026-12-06T06:40:00.000Z",
  actor: { kind: "local", user: "root" },
  action: "dispatch",
  target: "req_20261206_064000_0a1b2c3d",
  result: "ok",
};
compare("the audit log: fast check against AuditEntry", AuditEntry, checkAuditEntry, [
  auditEntry,
  {
    ...auditEntry,
    actor: { kind: "ssh", user: "ops", key: FINGERPRINT, from: "10.0.0.9", role: "operator", extra: 1 },
    result: "refused",
    reason: "the role cannot dispatch",
  },
  { ...auditEntry, result: "failed", reason: "" },
]);

compare("a chat turn's events: fast check against ChatChunk", ChatChunk, checkChatChunk, [
  {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    model: "openclaw",
    choices: [{ index: 0, delta: { role: "assistant", content: "hi" }, finish_reason: null }],
  },
  { model: "openclaw", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
  { model: "openclaw", choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } },
  { choices: [{ delta: null }, { delta: { content: null } }, {}], usage: null },
  { error: { message: "provider failed", type: "server_error", code: 500 } },
]);

describe("what the fast checks leave to the schema", () => {
  test("a __proto__ key, an undefined value and a non-plain object", () => {
    const proto = JSON.parse(`{"tokens": {"__proto__": {"profile": true}}}`);
    assert.equal(checkFederationConfig(proto), undefined);
    assert.deepStrictEqual(FederationConfig.safeParse(proto), bySchema(FederationConfig, proto));
    assert.equal(checkFederationConfig({ machine: undefined }), undefined);
    assert.equal(checkNodeStatusRecord(new Map()), undefined);
    assert.equal(
      checkNodeStatusRecord(Object.assign(Object.create({ inherited: 1 }), statusRecord)),
      undefined,
    );
  });
});
