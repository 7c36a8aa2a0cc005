import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UserError } from "../../source/core/domain/errors.js";
import { computeNodeHealth } from "../../source/core/domain/health.js";
import { isValidNodeId, isValidTaskId, newTaskId, taskIdTime } from "../../source/core/domain/ids.js";
import { type RoutableNode, routeTask } from "../../source/core/domain/router.js";
import { NodeConfig, type NodeStatusRecord, TimingConfig } from "../../source/core/domain/schema.js";
import { parseConfig, routeOf } from "../../source/core/infra/config.js";
import { createStreamSanitizer, sanitizeLine, sanitizeText } from "../../source/core/infra/sanitize.js";

describe("task and node ids", () => {
  test("new ids follow the seed format and carry their creation time", () => {
    const id = newTaskId(new Date(Date.UTC(2026, 1, 27, 20, 32, 20)));
    assert.match(id, /^req_20260227_203220_[0-9a-f]{8}$/);
    assert.equal(taskIdTime(id)?.toISOString(), "2026-02-27T20:32:20.000Z");
    assert.notEqual(newTaskId(), newTaskId());
  });
  test("seed ids are accepted; path-like, huge and odd ones are refused", () => {
    for (const ok of ["req_20260227_200645", "req_20260227_203220_e68aee2d", "req_example"])
      assert.ok(isValidTaskId(ok), ok);
    for (const bad of [
      "../req_x",
      "req_a/b",
      "req_",
      "req_a.json",
      `req_${"a".repeat(200)}`,
      "task_1",
      "req_a\u0000",
      "req_ä",
    ]) {
      assert.ok(!isValidTaskId(bad), bad);
    }
    assert.ok(isValidNodeId("mac-mini") && isValidNodeId("alpha"));
    for (const bad of ["any", "Alpha", "../x", "", "a b", "x".repeat(41)])
      assert.ok(!isValidNodeId(bad), bad);
  });
});

describe("sanitizing untrusted text", () => {
  const nasty =
    "a\u001b[2Jb\u001b]0;title\u0007c\u001b]8;;http://x\u001b\\d\u009b31me\u0007f\u0000g\u009d52;c;cHduZWQ=\u0007\u202e\u001bPq#0\u001b\\h\u0090dcs\u009c\u009epm\u001b\\\ti";
  test("escape and control sequences are removed, text and newlines kept", () => {
    assert.equal(sanitizeText(nasty), "abcdefgh  i");
    assert.equal(sanitizeText("line1\nline2 中文 😀"), "line1\nline2 中文 😀");
    assert.equal(sanitizeLine("a\nb\r\nc"), "a b c");
    // A stray C1 byte (mis-decoded text) is dropped alone, never with the rest of the reply.
    assert.equal(sanitizeText("A \u009d and the rest…\nSecond line."), "A  and the rest…\nSecond line.");
    assert.equal(sanitizeText("Sure ð\u009f\u0098\u0080 here is the answer"), "Sure ð here is the answer");
    // Bidi overrides are removed; right-to-left letters stay.
    assert.equal(sanitizeText("abc\u202edef שלום"), "abcdef שלום");
  });
  test("a stream cut at every possible place gives the same clean text", () => {
    for (let i = 0; i <= nasty.length; i++) {
      for (let j = i; j <= nasty.length; j += 3) {
        const s = createStreamSanitizer();
        const out = s.push(nasty.slice(0, i)) + s.push(nasty.slice(i, j)) + s.push(nasty.slice(j)) + s.end();
        assert.equal(out, "abcdefgh  i", `cut at ${i}/${j}`);
      }
    }
  });
});

describe("config parsing", () => {
  test("a valid JSON5 file with comments parses, defaults filled in", () => {
    const c = parseConfig(
      `// hub\n{ nodes: [ { id: "alpha", machine: "mac-mini", port: 18790, profile: "alpha" } ] }`,
      "/x/federation.json",
    );
    assert.equal(c.nodes[0]?.agent, "main");
    assert.deepEqual(c.nodes[0]?.token, { profile: true });
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

const timing = TimingConfig.parse({});
const node = (id: string, extra: Partial<NodeConfig> = {}) =>
  NodeConfig.parse({ id, machine: "hub", port: 18789, ...extra });
const heartbeat = (ageMs: number, extra: Partial<NodeStatusRecord> = {}): NodeStatusRecord => ({
  schema: "clawos.node-status/1",
  node: "laptop",
  machine: "laptop",
  pid: 1,
  version: "0",
  startedAt: new Date(0).toISOString(),
  heartbeatAt: new Date(1_000_000 - ageMs).toISOString(),
  state: "running",
  inFlight: [],
  completed: 0,
  failed: 0,
  gateway: { reachable: true, latencyMs: 3, checkedAt: new Date(0).toISOString() },
  ...extra,
});

describe("node health", () => {
  const now = 1_000_000;
  test("localhost: from probes; unknown until probed", () => {
    const n = node("alpha");
    assert.equal(computeNodeHealth({ node: n, route: "localhost", now, timing }).status, "unknown");
    assert.equal(
      computeNodeHealth({
        node: n,
        route: "localhost",
        now,
        timing,
        probe: { ok: true, latencyMs: 2, checkedAt: now },
      }).status,
      "online",
    );
    const down = computeNodeHealth({
      node: n,
      route: "localhost",
      now,
      timing,
      probe: { ok: false, checkedAt: now, errorKind: "unreachable", error: "refused" },
    });
    assert.deepEqual([down.status, down.reason], ["unreachable", "refused"]);
    const token = computeNodeHealth({
      node: n,
      route: "localhost",
      now,
      timing,
      probe: { ok: false, checkedAt: now, errorKind: "unauthorized", error: "bad token" },
    });
    assert.equal(token.status, "misconfigured");
  });
  test("other machines: from heartbeat age; never online without one", () => {
    const n = node("laptop", { machine: "laptop" });
    const h = (age: number, extra: Partial<NodeStatusRecord> = {}) =>
      computeNodeHealth({ node: n, route: "blackboard", now, timing, heartbeat: heartbeat(age, extra) })
        .status;
    assert.equal(computeNodeHealth({ node: n, route: "blackboard", now, timing }).status, "unknown");
    assert.equal(h(1_000), "online");
    assert.equal(h(timing.staleAfterMs + 1), "stale");
    assert.equal(h(timing.asleepAfterMs + 1), "asleep");
    assert.equal(h(1_000, { state: "stopped" }), "asleep");
    assert.equal(h(1_000, { gateway: { reachable: false, checkedAt: "", error: "refused" } }), "unreachable");
    assert.equal(
      computeNodeHealth({ node: node("c", { port: null }), route: "planned", now, timing }).status,
      "planned",
    );
  });
});

describe("router", () => {
  const r = (id: string, extra: Partial<RoutableNode> = {}): RoutableNode => ({
    config: node(id, extra.config ?? {}),
    route: "localhost",
    status: "online",
    statusReason: "health 1 ms",
    inFlight: 0,
    latencyMs: 5,
    ...extra,
  });
  test("any: the least loaded online node, with the reason", () => {
    const out = routeTask({ target: "any", priority: "P2" }, [
      r("a", { inFlight: 2 }),
      r("b", { inFlight: 0 }),
      r("c", { status: "unreachable" }),
    ]);
    assert.equal(out.decision.node, "b");
    assert.equal(out.waiting, false);
    assert.match(out.decision.reason, /b is online, 0 task\(s\) in flight.*best of 2 online nodes/);
  });
  test("any: ties go to localhost, then latency", () => {
    const out = routeTask({ target: "any", priority: "P2" }, [
      r("far", { route: "blackboard", latencyMs: 1 }),
      r("near", { latencyMs: 9 }),
    ]);
    assert.equal(out.decision.node, "near");
    const out2 = routeTask({ target: "any", priority: "P2" }, [
      r("slow", { latencyMs: 50 }),
      r("fast", { latencyMs: 2 }),
    ]);
    assert.equal(out2.decision.node, "fast");
  });
  test("any: tags and exclusions are respected; nothing online means wait, and says where", () => {
    const tagged = routeTask({ target: "any", priority: "P2", tags: ["gpu"] }, [
      r("a"),
      r("b", { config: node("b", { tags: ["gpu"] }) }),
    ]);
    assert.equal(tagged.decision.node, "b");
    const none = routeTask({ target: "any", priority: "P2" }, [
      r("a", { status: "asleep", lastSeenAt: 5 }),
      r("b", { status: "unreachable" }),
    ]);
    assert.equal(none.waiting, true);
    assert.equal(none.decision.node, "a");
    assert.equal(none.decision.transport, "blackboard");
    assert.match(none.decision.reason, /no node is online/);
    assert.throws(() => routeTask({ target: "any", priority: "P2", exclude: ["a"] }, [r("a")]), UserError);
    assert.throws(() => routeTask({ target: "any", priority: "P2" }, []), /No node/);
  });
  test("ssh: P0 to another machine, and any task while its worker is silent (unless turned off)", () => {
    const ssh = { target: "me@vm" };
    const remote = (status: RoutableNode["status"], extra: Record<string, unknown> = {}) =>
      r("vm", {
        route: "blackboard",
        status,
        config: node("vm", { machine: "vm", ssh: { ...ssh, ...extra } }),
      });
    const pick = (n: RoutableNode, priority: "P0" | "P2") =>
      routeTask({ target: "vm", priority, sshAvailable: true }, [n]).decision.transport;
    assert.equal(pick(remote("online"), "P0"), "ssh");
    assert.equal(pick(remote("online"), "P2"), "blackboard");
    assert.equal(pick(remote("asleep"), "P2"), "ssh");
    assert.equal(pick(remote("unknown"), "P2"), "ssh");
    assert.equal(pick(remote("asleep", { whenWorkerSilent: false }), "P2"), "blackboard");
    assert.equal(
      pick(remote("unreachable"), "P2"),
      "blackboard",
      "its worker says the gateway is down: SSH would not help",
    );
  });
  test("explicit: unknown refused, planned waits, dead localhost waits on the blackboard, misconfigured refused", () => {
    assert.throws(() => routeTask({ target: "zzz", priority: "P2" }, [r("a")]), /no node "zzz" \(known: a\)/);
    assert.equal(
      routeTask({ target: "c", priority: "P2" }, [r("c", { route: "planned", status: "planned" })]).waiting,
      true,
    );
    const dead = routeTask({ target: "a", priority: "P2" }, [
      r("a", { status: "unreachable", statusReason: "refused" }),
    ]);
    assert.deepEqual([dead.decision.node, dead.decision.transport, dead.waiting], ["a", "blackboard", true]);
    assert.throws(
      () =>
        routeTask({ target: "a", priority: "P2" }, [
          r("a", { status: "misconfigured", statusReason: "401" }),
        ]),
      /misconfigured/,
    );
    const remote = routeTask({ target: "l", priority: "P2" }, [r("l", { route: "blackboard" })]);
    assert.equal(remote.decision.transport, "blackboard");
  });
});

describe("long replies", () => {
  test("a reply over the record limit is cut on a character boundary and says so", async () => {
    const { fitForRecord } = await import("../../source/core/federation/task-runner.js");
    assert.equal(fitForRecord("short 中文"), "short 中文");
    const long = "长".repeat(400_000); // 1.2 MB of UTF-8
    const cut = fitForRecord(long);
    assert.ok(Buffer.byteLength(cut) < 1_000_000);
    assert.ok(!cut.includes("\uFFFD"));
    assert.match(cut, /\[… reply cut: 1200000 bytes is more than a task record holds\]$/);
  });

  test("the limit counts bytes as stored: a reply of quotes, control characters or emoji still fits", async () => {
    const { fitForRecord } = await import("../../source/core/federation/task-runner.js");
    const { MAX_RECORD_BYTES } = await import("../../source/core/domain/schema.js");
    for (const long of ['"'.repeat(600_000), "\u0001".repeat(300_000), "😀".repeat(300_000)]) {
      const cut = fitForRecord(long);
      const stored = Buffer.byteLength(JSON.stringify({ text: cut }));
      assert.ok(stored < MAX_RECORD_BYTES, `${stored} bytes stored`);
      assert.ok(stored > 800_000, "cut no shorter than it has to be");
      assert.match(cut, /more than a task record holds\]$/);
      assert.ok(!/[\ud800-\udbff]\n\[…/.test(cut), "no half surrogate pair before the note");
    }
    const fits = '"'.repeat(400_000); // 800 KB stored: kept whole
    assert.equal(fitForRecord(fits), fits);
  });
});

describe("long-running commands", () => {
  test("the control center and serve count as long-running; one-shot commands do not", async () => {
    const { isLongRunning } = await import("../../source/long-running-heap.js");
    assert.equal(isLongRunning([]), true);
    assert.equal(isLongRunning(["tui", "--readonly"]), true);
    assert.equal(isLongRunning(["--home", "/tmp/x"]), true);
    assert.equal(isLongRunning(["--home", "/tmp/x", "serve", "--ssh", "127.0.0.1:2222"]), true);
    assert.equal(isLongRunning(["status"]), false);
    assert.equal(isLongRunning(["--home", "tui", "status"]), false);
    assert.equal(isLongRunning(["dispatch", "tui"]), false);
    assert.equal(isLongRunning(["--help"]), false, "help prints and exits: no second start");
    assert.equal(isLongRunning(["tui", "-h"]), false);
    assert.equal(isLongRunning(["--version"]), false);
  });

  test("they restart with the heap flags the user did not give", async () => {
    const { missingHeapFlags } = await import("../../source/long-running-heap.js");
    assert.deepEqual(missingHeapFlags([]), ["--max-semi-space-size=4", "--max-old-space-size=512"]);
    assert.deepEqual(missingHeapFlags(["--max-semi-space-size=16"]), ["--max-old-space-size=512"]);
    assert.deepEqual(missingHeapFlags(["--max-semi-space-size=4"], "--max_old_space_size=4096"), []);
    assert.deepEqual(missingHeapFlags(["--enable-source-maps"], "--max-old-space-size=512"), [
      "--max-semi-space-size=4",
    ]);
  });
});

describe("text width", () => {
  test("every character the fast path measures has the width string-width gives it; the rest go to string-width", async () => {
    const { simpleCharWidth, textWidth } = await import("../../source/present/text-width.js");
    const { default: stringWidth } = await import("string-width");
    let checked = 0;
    for (let c = 0x20; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const fast = simpleCharWidth(c);
      if (fast === undefined) continue;
      const ch = String.fromCharCode(c);
      assert.equal(fast, stringWidth(ch), `U+${c.toString(16)} ${ch}`);
      checked++;
    }
    assert.ok(checked > 40_000, `${checked} characters checked`);
    for (const text of [
      "alpha — online · 3 ms",
      "第一个任务 with 中文",
      "한국어 텍스트",
      "ｆｕｌｌ",
      "👍 done",
      "e\u0301",
      "a\u200Bb",
      "👩‍💻 dev",
      "가",
    ])
      assert.equal(textWidth(text), stringWidth(text), text);
  });
});

describe("a task's timeline", () => {
  test("adds when the attempt started and how it ended to the recorded events, in time order", async () => {
    const { timelineOf } = await import("../../source/present/timeline.js");
    const base = {
      id: "req_20260301_100000_00000001",
      target: "any",
      node: "alpha",
      priority: "P2" as const,
      text: "t",
      createdAt: "2026-03-01T10:00:00.000Z",
      attempt: 2,
      maxAttempts: 3,
      route: {
        node: "alpha",
        transport: "localhost" as const,
        reason: "r",
        decidedAt: "2026-03-01T10:00:00.000Z",
      },
      history: [
        { at: "2026-03-01T10:00:00.000Z", event: "routed", detail: "r" },
        { at: "2026-03-01T10:00:05.000Z", event: "lease-expired", detail: "no renewal" },
      ],
    };
    const done = timelineOf({
      ...base,
      state: "completed",
      startedAt: "2026-03-01T10:00:06.000Z",
      finishedAt: "2026-03-01T10:00:08.500Z",
      durationMs: 2500,
    });
    assert.deepEqual(
      done.map((e) => `${e.event} ${e.detail}`),
      ["routed r", "lease-expired no renewal", "started on alpha, attempt 2", "completed after 2.5 s"],
    );
    const quick = timelineOf({
      ...base,
      state: "completed",
      finishedAt: "2026-03-01T10:00:09.000Z",
      durationMs: 10,
    });
    assert.equal(quick.at(-1)?.detail, "after 10 ms");
    const lost = timelineOf({
      ...base,
      state: "failed",
      finishedAt: base.createdAt,
      error: { kind: "result_missing", message: "m" },
    });
    assert.deepEqual(
      lost.map((e) => e.event),
      ["routed", "lease-expired"],
      "no made-up end for a result that went missing",
    );
  });
});

describe("quitting with tasks running here", () => {
  test("says where each went and what runs it, only naming a worker command where none runs", async () => {
    const { handedBackLines } = await import("../../source/present/handed-back.js");
    assert.deepEqual(handedBackLines([]), []);
    const [first, second] = handedBackLines([
      { id: "req_a", node: "main" },
      { id: "req_b", node: "alpha", served: true },
    ]);
    assert.match(
      first ?? "",
      /2 tasks were still running here and went back to main's, alpha's inbox, nothing lost: req_a, req_b/,
    );
    assert.equal(second, "  a worker runs them: clawos node run --node main");
    assert.equal(
      handedBackLines([{ id: "req_c", node: "main", served: true }])[1],
      "  main's worker picks it up",
    );
    assert.match(
      handedBackLines([{ id: "req_d", node: "main", stillClaimed: true }])[0] ?? "",
      /req_d could not be handed back in time: it goes back to the inbox when the lease runs out/,
    );
  });
});

describe("tables in a terminal", () => {
  test("cut a long reason, then leave out the least useful columns, then cut more, so no row wraps", async () => {
    const { renderTable } = await import("../../source/present/table.js");
    const columns = [
      { header: "NODE" },
      { header: "REASON", flexible: true, max: 200 },
      { header: "ADDRESS", dropOrder: 2 },
      { header: "NOTES", dropOrder: 1 },
    ];
    const { safeLine } = await import("../../source/present/safe-text.js");
    const rows = [
      [
        "laptop",
        "no heartbeat yet (run clawos node run --node laptop there)",
        "10.0.0.2:18789",
        "sleeps",
      ].map(safeLine),
    ];
    const wide = renderTable(columns, rows, { width: 200 });
    assert.match(wide, /NOTES/);
    const cut = renderTable(columns, rows, { width: 85 });
    assert.match(cut, /NOTES/, "a long reason is cut before any column goes");
    assert.match(cut, /no heartbeat yet.*…/);
    const medium = renderTable(columns, rows, { width: 70 });
    assert.doesNotMatch(medium, /NOTES/);
    assert.match(medium, /ADDRESS/);
    for (const line of medium.split("\n")) assert.ok(line.length <= 70, `${line.length}: ${line}`);
    const narrow = renderTable(columns, rows, { width: 40 });
    assert.doesNotMatch(narrow, /ADDRESS|NOTES/);
    for (const line of narrow.split("\n")) assert.ok(line.length <= 40, `${line.length}: ${line}`);
    assert.match(narrow, /no heartbeat yet.*…/);
    assert.equal(renderTable(columns, rows), wide, "no width (a pipe): everything");
    const { truncate: truncateToWidth } = await import("../../source/present/text.js");
    const { textWidth } = await import("../../source/present/text-width.js");
    for (const text of ["❤️".repeat(6), "👨‍👩‍👧".repeat(4)]) {
      const t = truncateToWidth(text, 5);
      assert.ok(textWidth(t) <= 5, `${t} fits`);
      assert.ok(!t.includes("\u200d…"), "never half a joined emoji");
    }
  });
});
