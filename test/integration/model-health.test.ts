import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

type Task = {
  id: string;
  node: string;
  state: string;
  attempt: number;
  history: { event: string; detail: string }[];
  error?: { kind: string; message: string; hint?: string };
};

/**
 * A gateway that is up (its /health and /v1/models answer) but whose turns fail on the model:
 * health learns it from the turn, `any` goes around it, an explicit target fails with the fix.
 */
describe("health includes the model", () => {
  let world: World;
  let main: StubGateway;
  let alpha: StubGateway;

  before(async () => {
    world = await makeWorld();
    main = await startStubGateway({ token: "main-secret", reply: (p) => `main says: ${p}` });
    alpha = await startStubGateway({ token: "alpha-secret", mode: "no-model-auth" });
    await world.writeProfile(null, profileConfig(main.port, "main-secret"));
    await world.writeProfile("alpha", profileConfig(alpha.port, "alpha-secret"));
    assert.equal((await world.run(["init"])).code, 0);
  });
  after(async () => {
    await main.close();
    await alpha.close();
    await world.cleanup();
  });

  test("an any-task that lands on a node without model auth moves to the next node, and says why", async () => {
    // main is busy with a slow task, so `any` prefers alpha (fewer tasks in flight).
    main.configure({ mode: "slow", slowMs: 4_000 });
    const busy = world.spawn(["dispatch", "keep main busy", "--to", "hub", "--wait"]);
    await busy.waitFor(/→ hub via localhost/);
    const r = await world.run(["dispatch", "anyone with a model?", "--json"]);
    assert.equal(await busy.exited, 0, busy.output());
    main.configure({ mode: "ok" });
    assert.equal(r.code, 0, r.stderr);
    const task = JSON.parse(r.stdout) as Task;
    assert.equal(task.state, "completed");
    assert.equal(task.node, "hub");
    const failed = task.history.filter((h) => h.event === "attempt-failed");
    assert.equal(failed.length, 1, JSON.stringify(task.history));
    assert.match(
      failed[0]!.detail,
      /^attempt 1 on alpha: Node alpha's model has no usable credentials: No route-compatible authentication source is configured for openai\.; re-routed to hub$/,
    );
  });

  test("the failure is remembered: alpha shows misconfigured with the cause and the fix, and any skips it", async () => {
    const list = await world.run(["nodes", "list", "--json"]);
    const nodes = JSON.parse(list.stdout) as { id: string; status: string; reason: string }[];
    const alphaView = nodes.find((n) => n.id === "alpha");
    assert.equal(alphaView?.status, "misconfigured", list.stdout);
    assert.match(alphaView.reason, /last turn failed \d+s ago: Node alpha's model has no usable credentials/);
    const turns = JSON.parse(await readFile(join(world.clawosHome, "run", "turns", "alpha.json"), "utf8"));
    assert.equal(turns.kind, "model_auth");
    // doctor says the same, with the model's fix (not "start it").
    const doctor = await world.run(["doctor", "--json"]);
    const checks = JSON.parse(doctor.stdout) as {
      area: string;
      level: string;
      message: string;
      fix?: string;
    }[];
    const check = checks.find((c) => c.area === "nodes" && c.message.startsWith("alpha:"));
    assert.equal(check?.level, "fail", doctor.stdout);
    assert.match(check.message, /alpha: misconfigured — last turn failed/);
    assert.match(
      check.fix ?? "",
      /^Give it a key: openclaw --profile alpha models auth paste-api-key --provider openai/,
    );

    const before = alpha.requests.filter((q) => q.path === "/v1/chat/completions").length;
    for (let i = 0; i < 2; i++) {
      const r = await world.run(["dispatch", `task ${i}`, "--json"]);
      const task = JSON.parse(r.stdout) as Task;
      assert.equal(task.node, "hub");
      assert.equal(task.state, "completed");
      assert.match(task.history[0]!.detail, /hub is online/);
    }
    assert.equal(
      alpha.requests.filter((q) => q.path === "/v1/chat/completions").length,
      before,
      "no turn was sent to alpha",
    );
  });

  test("an explicit target fails at once with the fix, naming the command that checks it again", async () => {
    const r = await world.run(["dispatch", "for alpha", "--to", "alpha"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Node alpha is misconfigured: last turn failed/);
    assert.match(
      r.stderr,
      /fix: Give it a key: openclaw --profile alpha models auth paste-api-key --provider openai \(openclaw --profile alpha models status shows what is missing\), then check it: clawos nodes probe --turn alpha\./,
    );
    assert.doesNotMatch(r.stderr, /openai\.\./, "one full stop");
  });

  test("nodes probe --turn runs one real turn: the failure with its fix and the gateway's log; a fixed node answers and is online again", async () => {
    const bad = await world.run(["nodes", "probe", "--turn", "alpha"]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /^alpha: no answer after \d+ ms: Node alpha's model has no usable credentials/);
    assert.match(bad.stdout, /\n {2}fix: Give it a key: /);
    assert.match(bad.stdout, /\n {2}gateway log: \/tmp\/openclaw\/openclaw-alpha-\d{4}-\d{2}-\d{2}\.log/);

    alpha.setMode("ok"); // its key was added
    const good = await world.run(["nodes", "probe", "--turn", "alpha"]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(
      good.stdout,
      /^alpha: answered in [\d.]+ (ms|s): echo: clawos checks that this node's model answers/,
    );
    const list = await world.run(["nodes", "list", "--json"]);
    const nodes = JSON.parse(list.stdout) as { id: string; status: string }[];
    assert.equal(nodes.find((n) => n.id === "alpha")?.status, "online");
  });

  test("an unknown model is misconfigured too; a provider that is down only degrades the node", async () => {
    alpha.setMode("model-not-found");
    const missing = await world.run(["dispatch", "x", "--to", "alpha", "--json"]);
    const task = JSON.parse(missing.stdout) as Task;
    assert.equal(task.state, "failed", "an explicit target fails with the fix, no retries");
    assert.equal(task.attempt, 1);
    assert.equal(task.error?.kind, "model_not_found");
    assert.match(task.error?.hint ?? "", /openclaw --profile alpha models list/);
    const probe = await world.run(["nodes", "probe", "alpha"]);
    assert.match(probe.stdout, /alpha: misconfigured — last turn failed/);

    alpha.setMode("provider-timeout");
    assert.equal((await world.run(["nodes", "probe", "--turn", "alpha"])).code, 1);
    const degraded = await world.run(["nodes", "probe", "alpha"]);
    assert.match(
      degraded.stdout,
      /alpha: degraded — last turn failed \d+s ago: Node alpha's model provider did not answer \(408\)/,
    );
    alpha.setMode("ok");
  });
});
