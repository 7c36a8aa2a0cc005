/**
 * Cordon and drain through the CLI on both drivers: a cordoned node gets nothing new (`any`
 * skips it and says so; by name is refused with the fix), and a drain hands every waiting
 * `any` task to another node exactly once, while a task sent to the node by name stays.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { freePort } from "../testkit/sshd.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";
import { type NatsServer, startNatsServer } from "./blackboard/nats-fixture.js";

interface TaskJson {
  id: string;
  node: string;
  target: string;
  state: string;
  history: { event: string; detail: string }[];
  route: { reason: string };
}

async function tasksOf(world: World): Promise<TaskJson[]> {
  const r = await world.run(["tasks", "list", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { tasks: TaskJson[] }).tasks;
}

for (const driver of ["directory", "nats"] as const) {
  describe(`cordon and drain (${driver} blackboard)`, () => {
    let nats: NatsServer | undefined;
    let beta: StubGateway;
    let world: World;

    before(async () => {
      if (driver === "nats") nats = await startNatsServer();
      beta = await startStubGateway({ token: "b", reply: (p) => `beta: ${p}` });
      world = await makeWorld();
      if (nats) {
        await mkdir(world.clawosHome, { recursive: true });
        await writeFile(
          join(world.clawosHome, "federation.json"),
          JSON.stringify({ blackboard: { driver: "nats", servers: [nats.url] } }),
        );
      }
      // alpha's gateway is down (nothing on its port): what is routed to it waits in its inbox.
      await world.writeProfile("alpha", profileConfig(await freePort(), "a"));
      await world.writeProfile("beta", profileConfig(beta.port, "b"));
      const init = await world.run(["init"]);
      assert.equal(init.code, 0, init.stderr);
    });
    after(async () => {
      await world.cleanup();
      await beta.close();
      await nats?.cleanup();
    });

    test("a cordoned node gets nothing: any skips it with the reason, by name is refused with the fix", async () => {
      const cordon = await world.run(["nodes", "cordon", "beta"]);
      assert.equal(cordon.code, 0, cordon.stderr);
      assert.match(cordon.stdout, /beta is cordoned: it takes no new tasks/);

      const named = await world.run(["dispatch", "to beta by name", "--to", "beta"]);
      assert.equal(named.code, 2);
      assert.match(named.stderr, /Node beta is cordoned: it takes no new tasks\./);
      assert.match(named.stderr, /fix: .*clawos nodes uncordon beta/);

      for (const text of ["first", "second", "third"]) {
        const r = await world.run(["dispatch", text]);
        assert.equal(r.code, 0, r.stderr);
      }
      const waiting = await tasksOf(world);
      assert.equal(waiting.length, 3);
      for (const t of waiting) {
        assert.equal(t.node, "alpha", "beta is cordoned: every any task waits on alpha");
        assert.equal(t.state, "pending");
        assert.match(t.route.reason, /skipped beta: cordoned/);
      }
      assert.equal(beta.requests.filter((r) => r.prompt !== undefined).length, 0, "no turn reached beta");

      const list = await world.run(["nodes", "list", "--json"]);
      const views = JSON.parse(list.stdout) as { id: string; cordon?: string; reason: string }[];
      assert.equal(views.find((v) => v.id === "beta")?.cordon, "cordoned");
      assert.match(views.find((v) => v.id === "beta")?.reason ?? "", /^cordoned; /);
      assert.equal(views.find((v) => v.id === "alpha")?.cordon, undefined);
    });

    test("a drain hands the waiting any tasks over exactly once; one sent by name stays", async () => {
      assert.equal((await world.run(["nodes", "uncordon", "beta"])).code, 0);
      const named = await world.run(["dispatch", "only alpha may run this", "--to", "alpha"]);
      assert.equal(named.code, 0, named.stderr);

      const drain = await world.run(["nodes", "drain", "alpha"]);
      assert.equal(drain.code, 0, drain.stderr);
      assert.equal(drain.stdout.match(/handed to beta/g)?.length, 3, drain.stdout);
      assert.match(drain.stdout, /stays on alpha|alpha is draining: 1 task still there/);

      // Drained again: nothing left to hand over, nothing moved twice.
      const again = await world.run(["nodes", "drain", "alpha"]);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stdout, /handed to/);

      const tasks = await tasksOf(world);
      const anyTasks = tasks.filter((t) => t.target === "any");
      assert.equal(anyTasks.length, 3);
      for (const t of anyTasks) {
        assert.equal(t.node, "beta");
        assert.equal(t.history.filter((e) => e.event === "rerouted").length, 1, JSON.stringify(t.history));
      }
      const stays = tasks.find((t) => t.target === "alpha");
      assert.equal(stays?.node, "alpha");
      assert.equal(stays?.state, "pending");

      const run = await world.run(["node", "run", "--node", "beta", "--once"], { timeoutMs: 60_000 });
      assert.equal(run.code, 0, run.stderr);
      const prompts = beta.requests.flatMap((r) => (r.prompt === undefined ? [] : [r.prompt]));
      for (const text of ["first", "second", "third"])
        assert.equal(prompts.filter((p) => p === text).length, 1, `${text} ran once: ${prompts.join(", ")}`);
      const done = await tasksOf(world);
      assert.deepEqual(
        done.filter((t) => t.target === "any").map((t) => t.state),
        ["completed", "completed", "completed"],
      );

      // While alpha drains, any goes elsewhere; by name it is refused.
      const refused = await world.run(["dispatch", "x", "--to", "alpha"]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /Node alpha is draining/);
      const list = await world.run(["nodes", "list", "--json"]);
      const alpha = (JSON.parse(list.stdout) as { id: string; cordon?: string }[]).find(
        (v) => v.id === "alpha",
      );
      assert.equal(alpha?.cordon, "draining", "the task sent to it by name still waits there");

      const audit = await world.run(["audit", "--json"]);
      const entries = audit.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { action: string; target: string; result: string });
      assert.ok(entries.some((e) => e.action === "drain" && e.target === "alpha" && e.result === "ok"));
      assert.ok(
        entries.some((e) => e.action === "dispatch" && e.target === "alpha" && e.result === "failed"),
      );
      assert.doesNotMatch(audit.stdout, /first|second|third|only alpha may run/, "never a task's text");
    });

    test("another machine cannot cordon a node it does not own: refused with the owner and the fix", async () => {
      // A second machine on the same board: its own home, the hub's nodes from the shared registry.
      const laptop = await makeWorld();
      try {
        laptop.env.CLAWOS_MACHINE = "laptop";
        await mkdir(laptop.clawosHome, { recursive: true });
        const blackboard = nats
          ? { driver: "nats", servers: [nats.url] }
          : { driver: "directory", path: world.blackboard };
        await writeFile(
          join(laptop.clawosHome, "federation.json"),
          JSON.stringify({ version: 2, blackboard }),
        );
        for (const action of ["cordon", "drain", "uncordon"]) {
          const r = await laptop.run(["nodes", action, "beta"]);
          assert.equal(r.code, 2, `${action}: ${r.stdout}${r.stderr}`);
          assert.match(r.stderr, /Node beta's record belongs to hub: only that machine writes it\./);
          assert.match(r.stderr, new RegExp(`fix: on hub: clawos nodes ${action} beta`));
          assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
        }
        const list = await world.run(["nodes", "list", "--json"]);
        const beta = (JSON.parse(list.stdout) as { id: string; cordon?: string }[]).find(
          (v) => v.id === "beta",
        );
        assert.equal(beta?.cordon, undefined, "the record is as its owner left it");
      } finally {
        await laptop.cleanup();
      }
    });
  });
}
