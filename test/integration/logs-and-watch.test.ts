import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  addNodeOf,
  editConfig,
  FAST_TIMING,
  makeWorld,
  profileConfig,
  type World,
  worldWithMain,
} from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";
import { type NatsServer, startNatsServer } from "./blackboard/nats-fixture.js";

const TOKEN = "main-secret-token-4242";

/** OpenClaw's JSON log lines, as its gateway writes them. */
const gatewayLine = (time: string, level: string, message: string) =>
  JSON.stringify({ 0: message, _meta: { logLevelName: level, date: time }, time, message });

describe("clawos logs on this machine: worker and gateway lines merged by time", () => {
  let world: World;
  let gateway: StubGateway;
  let gatewayLog: string;

  before(async () => {
    gateway = await startStubGateway({ token: TOKEN });
    world = await worldWithMain(gateway.port, TOKEN);
    gatewayLog = join(world.home, "gateway.log");
    // The profile names its own log file (logging.file), as OpenClaw allows.
    const profile = profileConfig(gateway.port, TOKEN).replace(
      /\}\s*$/,
      `  logging: { file: ${JSON.stringify(gatewayLog)} },\n}\n`,
    );
    await world.writeProfile(null, profile);
    await editConfig(world, (c) => {
      c.timing = FAST_TIMING;
    });
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  test("a worker run, then its lines and the gateway's in time order; secrets masked, escapes gone", async () => {
    const run = await world.run(["node", "run", "--once"]);
    assert.equal(run.code, 0, run.stderr);
    const d = await world.run(["dispatch", "hello there", "--to", "hub", "--wait"]);
    assert.equal(d.code, 0, d.stderr);
    const workerLog = await readFile(join(world.clawosHome, "logs", "worker.log"), "utf8");
    assert.match(workerLog, /worker started on hub/);
    assert.ok(!workerLog.includes(TOKEN), "the worker log never holds the gateway token");

    const started = /^(\S+) info\s+worker started/m.exec(workerLog)?.[1] as string;
    const before = new Date(Date.parse(started) - 2 * 3_600_000).toISOString();
    const afterIt = new Date(Date.parse(started) + 60_000).toISOString();
    await writeFile(
      gatewayLog,
      `${[
        gatewayLine(before, "INFO", "gateway listening"),
        gatewayLine(afterIt, "WARN", `rejected header Bearer ${TOKEN} \u001b]0;owned\u0007now`),
        "a plain line without a time",
      ].join("\n")}\n`,
    );

    const r = await world.run(["logs"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^hub: worker log ~\/\.openclaw\/clawos\/logs\/worker\.log and gateway log ~\/gateway\.log/,
    );
    const lines = r.stdout.trimEnd().split("\n");
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    assert.ok(at(/gateway info\s+gateway listening/) >= 0, r.stdout);
    assert.ok(at(/gateway info\s+gateway listening/) < at(/worker\s+info\s+worker started on hub/), r.stdout);
    assert.ok(at(/worker started on hub/) < at(/rejected header/), r.stdout);
    assert.ok(
      at(/rejected header/) < at(/a plain line without a time/),
      "an untimed line stays after its neighbour",
    );
    assert.ok(!r.stdout.includes(TOKEN), "a token a gateway logged is masked");
    assert.match(r.stdout, /Bearer \*\*\*/);
    assert.ok(!/[\u001b\u0007]/.test(r.stdout), "no escape reaches the terminal");

    const grep = await world.run(["logs", "hub", "--grep", "LISTENING"]);
    assert.deepEqual(
      grep.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.replace(/^.{16}/, "")),
      ["gateway info  gateway listening"],
    );
    const last = await world.run(["logs", "hub", "--lines", "2"]);
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(
      last.stdout.trimEnd().split("\n"),
      lines.slice(-2),
      "--lines keeps the newest lines, as the full listing ends",
    );
    const notLines = await world.run(["logs", "-n", "0"]);
    assert.equal(notLines.code, 2);
    assert.match(notLines.stderr, /--lines 0 is not a number of lines\.\n\s+fix: give a whole number/);
    const since = await world.run(["logs", "--since", "1h"]);
    assert.ok(!since.stdout.includes("gateway listening"), "two hours old: left out");
    assert.match(since.stdout, /worker started on hub/);
    const bad = await world.run(["logs", "--since", "ten"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since ten is not an age\.\n\s+fix: give a number and a unit/);
    const unknown = await world.run(["logs", "nope"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no node "nope"/);
  });

  test("-f prints lines as they are written, until Ctrl+C (exit 0)", async () => {
    const follow = world.spawn(["logs", "hub", "-f"]);
    await follow.waitFor("gateway listening");
    await writeFile(gatewayLog, `${gatewayLine(new Date().toISOString(), "INFO", "a new line arrives")}\n`, {
      flag: "a",
    });
    await follow.waitFor("a new line arrives");
    follow.child.kill("SIGINT");
    assert.equal(await follow.exited, 0);
  });
});

/** A federation with one node on the pretend machine "laptop", on a directory or NATS board. */
async function laptopWorld(
  blackboard: Record<string, unknown>,
): Promise<{ world: World; gateway: StubGateway }> {
  const gateway = await startStubGateway({ token: "laptop-secret", reply: (p) => `laptop did: ${p}` });
  const world = await makeWorld();
  await mkdir(world.clawosHome, { recursive: true });
  // No `machine` here: it would win over CLAWOS_MACHINE and make every process the hub.
  await writeFile(
    join(world.clawosHome, "federation.json"),
    JSON.stringify({ version: 2, blackboard, timing: FAST_TIMING }),
  );
  await addNodeOf(world, "laptop", "laptop", gateway.port, "LAPTOP_TOKEN");
  return { world, gateway };
}

const LAPTOP = { CLAWOS_MACHINE: "laptop", LAPTOP_TOKEN: "laptop-secret" };

for (const driver of ["directory", "nats"] as const) {
  describe(`clawos logs for a node on another machine (${driver}): from its heartbeat`, () => {
    let world: World;
    let gateway: StubGateway;
    let nats: NatsServer | undefined;

    before(async () => {
      if (driver === "nats") nats = await startNatsServer();
      ({ world, gateway } = await laptopWorld(
        nats ? { driver: "nats", servers: [nats.url] } : { driver: "directory" },
      ));
    });
    after(async () => {
      await gateway.close();
      await world.cleanup();
      await nats?.cleanup();
    });

    test("no heartbeat yet says so; then the worker's lines, and -f follows a task it runs", async () => {
      const none = await world.run(["logs", "laptop"]);
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stderr, /laptop: no heartbeat from laptop yet/);

      const worker = world.spawn(["node", "run", "--node", "laptop"], { env: LAPTOP });
      await worker.waitFor("worker started on laptop");
      let shown = "";
      for (let i = 0; i < 100 && !shown.includes("worker started on laptop"); i++) {
        shown = (await world.run(["logs", "laptop"])).stdout;
        if (!shown.includes("worker started")) await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(shown, /heartbeat info\s+worker started on laptop/);
      const r = await world.run(["logs", "laptop"]);
      assert.match(r.stderr, /^laptop: from the heartbeat of laptop, last \d+ lines?/);

      const follow = world.spawn(["logs", "laptop", "--follow"]);
      await follow.waitFor("worker started on laptop");
      const d = await world.run(["dispatch", "ping", "--to", "laptop", "--json"]);
      const id = (JSON.parse(d.stdout) as { id: string }).id;
      await follow.waitFor(new RegExp(`heartbeat .*${id}`));
      follow.child.kill("SIGINT");
      assert.equal(await follow.exited, 0);
      worker.child.kill("SIGTERM");
      await worker.exited;
    });
  });
}

describe("clawos watch and alert commands", () => {
  let world: World;
  let gateway: StubGateway;
  let port: number;
  let alertsFile: string;

  before(async () => {
    gateway = await startStubGateway({ token: TOKEN });
    port = gateway.port;
    world = await worldWithMain(port, TOKEN);
    alertsFile = join(world.home, "alerts.jsonl");
    // A command that appends what it reads from stdin: each event, once, as JSON.
    const script = join(world.home, "alert.sh");
    await writeFile(script, `#!/bin/sh\ncat >> ${JSON.stringify(alertsFile)}\necho alert received\n`, {
      mode: 0o755,
    });
    await editConfig(world, (c) => {
      c.timing = { ...FAST_TIMING, leaseMs: 1000 };
      c.alerts = { command: [script], debounceMs: 0, timeoutMs: 5000 };
      // One turn of the stub (a token per character of prompt and reply) goes over it.
      c.budgets = { hub: { tokens: 20 } };
    });
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  test("watch --json sees the gateway go down and come back, a task fail and a budget reached; the alert command gets each once", async () => {
    const worker = world.spawn(["node", "run"]);
    await worker.waitFor("worker started on hub");
    const watch = world.spawn(["watch", "--json"]);
    await watch.waitFor("watching 1 node on hub (clawos · 1 online)");

    await gateway.close();
    await watch.waitFor(/"kind":"node-down"/, 60_000);
    gateway = await startStubGateway({ token: TOKEN, port });
    await watch.waitFor(/"kind":"node-up"/, 60_000);

    gateway.setMode("model-not-found");
    const d = await world.run(["dispatch", "this fails", "--to", "hub", "--json"]);
    const id = (JSON.parse(d.stdout) as { id: string }).id;
    await watch.waitFor(new RegExp(`"kind":"task-failed","node":"hub","task":"${id}"`), 60_000);

    // A turn with usage (the stub's chunk) takes hub over its cap of 20 tokens. The failed
    // turn marked hub's model as missing: checked again first, as its fix says.
    gateway.setMode("ok");
    const probe = await world.run(["nodes", "probe", "--turn", "hub"]);
    assert.equal(probe.code, 0, probe.stderr);
    const ok = await world.run(["dispatch", "this works", "--to", "hub", "--wait"]);
    assert.equal(ok.code, 0, ok.stderr);
    await watch.waitFor(/"kind":"budget-reached","node":"hub",.*node hub reached its daily budget/, 60_000);

    const events = watch
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      events.map((e) => Object.keys(e)),
      events.map(() => ["time", "kind", "node", "task", "from", "to", "message"]),
      "stable fields, in a stable order",
    );
    const down = events.find((e) => e.kind === "node-down");
    assert.equal(down?.from, "online");
    assert.equal(down?.to, "unreachable");

    // The coordinator sends each alert once, with the event on stdin.
    let sent: Record<string, unknown>[] = [];
    for (let i = 0; i < 150; i++) {
      const text = await readFile(alertsFile, "utf8").catch(() => "");
      sent = text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      if (sent.some((e) => e.kind === "budget-reached")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(
      sent.map((e) => e.kind),
      ["node-down", "node-up", "task-failed", "budget-reached"],
    );
    assert.deepEqual(
      sent.map((e) => Object.keys(e)),
      sent.map(() => ["time", "kind", "node", "task", "from", "to", "message"]),
      "the alert gets the event in watch --json's shape",
    );
    assert.equal(sent[2]?.task, id);
    assert.equal(sent[3]?.node, "hub");
    assert.equal(
      watch.output().match(/"kind":"budget-reached"/g)?.length,
      1,
      "watch says it once, though every later look still sees the budget reached",
    );
    assert.match(worker.output(), /alert node-down hub: .*alert\.sh done: alert received/);

    watch.child.kill("SIGINT");
    assert.equal(await watch.exited, 0, "Ctrl+C ends watch normally");
    worker.child.kill("SIGTERM");
    await worker.exited;
  });
});
