/**
 * Usage and budgets through the real CLI, on both drivers: tokens recorded on the task and summed
 * in `status` (text, --json, --markdown) and `tasks show`, a node of another machine summed from
 * its worker's heartbeat, an explicit target over its cap refused, `any` steered, and a task that
 * waits for the budget, then runs once the cap is raised.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { editConfig, FAST_TIMING, makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway, stubUsage } from "../testkit/stub-gateway.js";
import { type NatsServer, startNatsServer } from "./blackboard/nats-fixture.js";

interface Totals {
  prompt: number;
  completion: number;
  tasks: number;
  cost: Record<string, number>;
}
interface StatusJson {
  nodes: {
    id: string;
    usage?: { today: Totals; week: Totals };
    budget?: { percent: number; reached: boolean; line: string };
  }[];
  usage: { today: Totals; week: Totals; budget?: { percent: number; reached: boolean } };
}
interface TaskJson {
  id: string;
  node: string;
  state: string;
  usage?: { prompt: number; completion: number };
  route: { reason: string };
}

const tokensOf = (prompt: string, reply: string) => {
  const u = stubUsage(prompt, reply);
  return { prompt: u.prompt_tokens, completion: u.completion_tokens };
};

async function statusJson(world: World): Promise<StatusJson> {
  const r = await world.run(["status", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusJson;
}

async function dispatchJson(world: World, args: string[]): Promise<TaskJson> {
  const r = await world.run(["dispatch", ...args, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as TaskJson;
}

for (const driver of ["directory", "nats"] as const) {
  describe(`usage and budgets (${driver} driver)`, () => {
    let nats: NatsServer | undefined;
    let alpha: StubGateway;
    let beta: StubGateway;
    let airGateway: StubGateway;
    let hub: World;
    let air: World;

    before(async () => {
      nats = driver === "nats" ? await startNatsServer() : undefined;
      alpha = await startStubGateway({ token: "a", reply: (p) => `alpha: ${p}` });
      // An older gateway: answers, but sends no usage chunk.
      beta = await startStubGateway({ token: "b", reply: (p) => `beta: ${p}`, usage: false });
      airGateway = await startStubGateway({ token: "c", reply: (p) => `air: ${p}` });
      hub = await makeWorld();
      air = await makeWorld();
      air.env.CLAWOS_MACHINE = "air";
      await hub.writeProfile("alpha", profileConfig(alpha.port, "a"));
      await hub.writeProfile("beta", profileConfig(beta.port, "b"));
      await air.writeProfile(null, profileConfig(airGateway.port, "c"));
      if (nats) {
        await mkdir(hub.clawosHome, { recursive: true });
        await writeFile(
          join(hub.clawosHome, "federation.json"),
          JSON.stringify({ blackboard: { driver: "nats", servers: [nats.url] } }),
        );
      }
      const init = await hub.run(["init"]);
      assert.equal(init.code, 0, init.stderr);
      await editConfig(hub, (c) => {
        c.timing = FAST_TIMING;
      });
    });
    after(async () => {
      await Promise.all([hub.cleanup(), air.cleanup()]);
      await Promise.all([alpha.close(), beta.close(), airGateway.close()]);
      await nats?.cleanup();
    });

    test("a turn's tokens are on the task and in status; a gateway without usage shows —, never 0", async () => {
      const done = await dispatchJson(hub, ["count my tokens", "--to", "alpha", "--wait"]);
      assert.equal(done.state, "completed");
      const expected = tokensOf("count my tokens", "alpha: count my tokens");
      assert.deepEqual(done.usage, expected);
      const show = await hub.run(["tasks", "show", done.id]);
      const total = expected.prompt + expected.completion;
      assert.match(
        show.stdout,
        new RegExp(
          `^Tokens {4}${total} \\(${expected.prompt} prompt \\+ ${expected.completion} completion\\)$`,
          "m",
        ),
      );

      const older = await dispatchJson(hub, ["no usage here", "--to", "beta", "--wait"]);
      assert.equal(older.state, "completed");
      assert.equal(older.usage, undefined);
      assert.match((await hub.run(["tasks", "show", older.id])).stdout, /^Tokens {4}—$/m);

      const status = await statusJson(hub);
      const a = status.nodes.find((n) => n.id === "alpha");
      assert.deepEqual(a?.usage?.today, { ...expected, tasks: 1, cost: {} });
      assert.deepEqual(a?.usage?.week, { ...expected, tasks: 1, cost: {} });
      assert.equal(status.nodes.find((n) => n.id === "beta")?.usage?.week.tasks, 0);
      assert.deepEqual(status.usage.today, { ...expected, tasks: 1, cost: {} });

      const text = await hub.run(["status", "--wide"]);
      assert.match(
        text.stdout,
        new RegExp(`^Usage: today ${total} tokens \\(1 task\\) · 7 days ${total} tokens`, "m"),
      );
      assert.match(text.stdout, /TOKENS/);
      const markdown = await hub.run(["status", "--markdown"]);
      assert.match(markdown.stdout, /^## Usage$/m);
      assert.match(
        markdown.stdout,
        new RegExp(`^\\| \\*\\*alpha\\*\\* \\| ${total} \\| ${total} \\| — \\|$`, "m"),
      );
      assert.match(markdown.stdout, /^\| \*\*beta\*\* \| — \| — \| — \|$/m);
    });

    test("a price table turns tokens into money", async () => {
      await editConfig(hub, (c) => {
        c.prices = { alpha: { prompt: 1_000_000, completion: 2_000_000, currency: "EUR" } };
      });
      const status = await statusJson(hub);
      const a = status.nodes.find((n) => n.id === "alpha")?.usage?.today;
      assert.ok(a);
      assert.equal(a.cost.EUR, a.prompt + 2 * a.completion);
      const text = await hub.run(["status", "--wide"]);
      assert.match(
        text.stdout,
        new RegExp(`^Usage: today \\d+ tokens \\(1 task, ${a.cost.EUR}\\.00 EUR\\)`, "m"),
      );
    });

    test("a node of another machine: its worker runs the task, its heartbeat brings the tokens", async () => {
      const how =
        driver === "nats" ? ["--nats", nats!.url] : ["--blackboard", hub.blackboard, "--coordinator", "hub"];
      const join = await air.run(["join", "--as", "air", ...how, "--no-worker"]);
      assert.equal(join.code, 0, join.stderr);
      await editConfig(air, (c) => {
        // Quick heartbeats, default leases: a loaded machine never loses the task's lease.
        c.timing = { heartbeatMs: 300, rescanMs: 300 };
      });
      const worker = air.spawn(["node", "run"]);
      try {
        await worker.waitFor("worker started on air");
        const done = await dispatchJson(hub, ["far away", "--to", "air", "--wait"]).catch((error: Error) => {
          throw new Error(`${error.message}\nair's worker said:\n${worker.output()}`);
        });
        assert.equal(done.state, "completed");
        const expected = tokensOf("far away", "air: far away");
        assert.deepEqual(done.usage, expected);
        // The worker's next heartbeat carries it; the hub has no ledger of its own for air.
        let seen: Totals | undefined;
        for (let i = 0; i < 100 && seen?.tasks !== 1; i++) {
          seen = (await statusJson(hub)).nodes.find((n) => n.id === "air")?.usage?.today;
          if (seen?.tasks !== 1) await sleep(100);
        }
        assert.deepEqual(seen, { ...expected, tasks: 1, cost: {} });
      } finally {
        worker.child.kill("SIGTERM");
        await worker.exited;
      }
    });

    test("an explicit target over its cap is refused with the fix; any goes to a node under its cap", async () => {
      const used = (await statusJson(hub)).nodes.find((n) => n.id === "alpha")?.usage?.today;
      assert.ok(used);
      const spent = used.prompt + used.completion;
      await editConfig(hub, (c) => {
        c.budgets = { alpha: { tokens: spent } };
      });
      const refused = await hub.run(["dispatch", "one more", "--to", "alpha"]);
      assert.equal(refused.code, 2);
      assert.equal(
        refused.stderr.split("\n")[0],
        `clawos: Not queued: node alpha reached its daily budget (${spent}/${spent} tokens); resets at 00:00 or raise budgets.alpha in federation.json.`,
      );
      const status = await statusJson(hub);
      assert.deepEqual(status.nodes.find((n) => n.id === "alpha")?.budget, {
        percent: 100,
        reached: true,
        line: `node alpha reached its daily budget (${spent}/${spent} tokens); resets at 00:00 or raise budgets.alpha in federation.json`,
      });
      const steered = await dispatchJson(hub, ["anyone under budget", "--to", "any", "--wait"]);
      assert.notEqual(steered.node, "alpha");
      assert.match(steered.route.reason, /passed by alpha \(daily budget reached\)/);
    });

    test("a task over the federation's cap waits (never dropped, never run), then runs once the cap is raised", async () => {
      const total = (await statusJson(hub)).usage.today;
      await editConfig(hub, (c) => {
        c.budgets = {}; // the federation's cap alone binds every node
        c.budget = { tokens: total.prompt + total.completion };
      });
      const waiting = await dispatchJson(hub, ["patience", "--to", "any"]);
      assert.equal(waiting.state, "pending");
      assert.match(waiting.route.reason, /every online node reached its daily budget/);
      const show = await hub.run(["tasks", "show", waiting.id]);
      assert.match(
        show.stdout,
        /^Note {6}Waiting in \S+'s inbox: the federation reached its daily budget \(\d+\/\d+ tokens\); resets at 00:00 or raise budget in federation\.json\.$/m,
      );
      assert.match(
        (await hub.run(["status"])).stdout,
        /^note: 1 task waits in \S+'s inbox: the federation reached its daily budget/m,
      );

      // A worker pass claims nothing: the task is still there, still pending, on its first attempt.
      const idle = await hub.run(["node", "run", "--once"]);
      assert.equal(idle.code, 0, idle.stderr);
      assert.match(idle.stderr + idle.stdout, /claims nothing more: the federation reached its daily budget/);
      const still = JSON.parse(
        (await hub.run(["tasks", "show", waiting.id, "--json"])).stdout,
      ) as TaskJson & {
        attempt: number;
      };
      assert.equal(still.state, "pending");
      assert.equal(still.attempt, 1);

      await editConfig(hub, (c) => {
        c.budget = { tokens: 1_000_000 };
      });
      const ran = await hub.run(["node", "run", "--once"]);
      assert.equal(ran.code, 0, ran.stderr);
      const done = JSON.parse((await hub.run(["tasks", "show", waiting.id, "--json"])).stdout) as TaskJson;
      assert.equal(done.state, "completed");
      const after = (await statusJson(hub)).usage;
      assert.equal(after.today.tasks, total.tasks + (done.usage ? 1 : 0));
      assert.equal(after.budget?.reached, false);
    });

    test("an any task waiting on a node over its cap is moved by the coordinator to one under its cap", async () => {
      beta.configure({ usage: undefined }); // beta reports usage from now on
      assert.equal(
        (await dispatchJson(hub, ["beta counts too", "--to", "beta", "--wait"])).state,
        "completed",
      );
      const nodes = (await statusJson(hub)).nodes;
      const spent = (id: string) => {
        const today = nodes.find((n) => n.id === id)?.usage?.today;
        return (today?.prompt ?? 0) + (today?.completion ?? 0);
      };
      await editConfig(hub, (c) => {
        delete c.budget;
        c.budgets = { alpha: { tokens: spent("alpha") }, beta: { tokens: spent("beta") } };
      });
      const waiting = await dispatchJson(hub, ["move me", "--to", "any"]);
      assert.equal(waiting.state, "pending");
      const other = waiting.node === "alpha" ? "beta" : "alpha";
      await editConfig(hub, (c) => {
        (c.budgets as Record<string, unknown>)[other] = { tokens: 1_000_000 };
      });
      await sleep(FAST_TIMING.rerouteAfterMs + 200); // the coordinator moves only tasks that waited that long
      // --coordinator: the duties now, without waiting to take over the lease air's worker held.
      const ran = await hub.run(["node", "run", "--once", "--coordinator"]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(
        ran.stderr + ran.stdout,
        new RegExp(`re-routed ${waiting.id} from ${waiting.node} to ${other}`),
      );
      const done = JSON.parse((await hub.run(["tasks", "show", waiting.id, "--json"])).stdout) as TaskJson;
      assert.equal(done.state, "completed");
      assert.equal(done.node, other);
    });
  });
}
