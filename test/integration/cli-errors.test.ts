import assert from "node:assert/strict";
import { mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeWorld, profileConfig, type World } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const TOKEN = "s3cret-token-never-printed";

function assertNoStack(text: string) {
  assert.doesNotMatch(text, /\n\s+at .+\(.+:\d+:\d+\)/, `stack trace in:\n${text}`);
}

describe("bad input gets a clear error and loses nothing", () => {
  let world: World;
  let gateway: StubGateway;

  before(async () => {
    world = await makeWorld();
    gateway = await startStubGateway({ token: TOKEN, agents: ["main"] });
    await world.writeProfile("alpha", profileConfig(gateway.port, TOKEN));
    assert.equal((await world.run(["init"])).code, 0);
  });
  after(async () => {
    await gateway.close();
    await world.cleanup();
  });

  test("usage errors exit 2 with one clear line", async () => {
    const cases: [string[], RegExp][] = [
      [["dispatch", "x", "--priority", "P9"], /P0, P1, P2, P3/],
      [["dispatch", "x", "--to", "nowhere"], /no node "nowhere" \(known: alpha\)/],
      [["dispatch", "x", "--to", "../../etc"], /is not a node id/],
      [["dispatch", "   "], /task text is empty/],
      [["tasks", "show", "../../../etc/passwd"], /"..\?..\?..\?etc\?passwd" is not a task id/],
      [["tasks", "cancel", `req_${"9".repeat(5000)}`], /is not a task id/],
      [["frobnicate"], /unknown command/],
    ];
    for (const [args, pattern] of cases) {
      const r = await world.run(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.ok(r.stderr.length < 400, `short message for ${args[0]}: ${r.stderr.length} chars`);
      assertNoStack(r.stderr);
    }
  });

  test("hints name the command the way the user runs the CLI: npx clawos under npm, clawos otherwise", async () => {
    const args = ["tasks", "show", "ffffffff"];
    const plain = await world.run(args);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /fix: .*clawos tasks list shows the ids/);
    assert.doesNotMatch(plain.stderr, /npx/);
    // What npx (npm exec) and npm start put in the environment.
    const npx = await world.run(args, { env: { npm_command: "exec" } });
    assert.match(npx.stderr, /fix: .*npx clawos tasks list shows the ids/);
    const status = await world.run(["status"], { env: { npm_command: "exec" } });
    assert.match(
      status.stdout,
      /Worker: not running on this machine; its tasks wait \(npx clawos node run\)/,
    );
    // Not a command: the error's own "clawos:" prefix stays as it is.
    assert.match(npx.stderr, /^clawos: /);
  });

  test("an invalid federation.json names the file, the field and the fix", async () => {
    const path = join(world.clawosHome, "federation.json");
    const good = await readFile(path, "utf8");
    try {
      // A version-1 file (nodes listed in it) is checked before it is upgraded.
      const config = JSON.parse(good) as { nodes: { id: string; machine: string; port: unknown }[] };
      config.nodes = [{ id: "alpha", machine: "hub", port: "eighteen" }];
      await writeFile(path, JSON.stringify(config));
      const r = await world.run(["status"]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /federation\.json: node "\w+": field "nodes\.0\.port"/,
        "names the node by its id",
      );
      assert.match(r.stderr, /fix: edit that node's entry in the file by hand/);
      // The fix it gives must not be a command that itself needs the file valid.
      assert.doesNotMatch(r.stderr, /clawos nodes remove/);
      assertNoStack(r.stderr);

      await writeFile(path, "{ nodes: [ { id: 'a', ");
      const broken = await world.run(["status"]);
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /federation\.json is not valid JSON/);
      assertNoStack(broken.stderr);
    } finally {
      await writeFile(path, good);
    }
  });

  test("a wrong token is reported with its source, and the token is never printed", async () => {
    const tokenFile = join(world.home, "alpha.token");
    await writeFile(tokenFile, "wrong-token\n", { mode: 0o600 });
    const cfgPath = join(world.clawosHome, "federation.json");
    const good = await readFile(cfgPath, "utf8");
    try {
      const config = JSON.parse(good) as { tokens: Record<string, unknown> };
      config.tokens = { ...config.tokens, alpha: { file: tokenFile } };
      await writeFile(cfgPath, JSON.stringify(config));
      const probe = await world.run(["nodes", "probe", "alpha"]);
      assert.match(probe.stdout, /alpha: misconfigured/);
      assert.match(probe.stdout, /alpha\.token/);
      const r = await world.run(["dispatch", "hello", "--to", "alpha", "--wait"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /misconfigured/);
      assert.match(r.stderr, /token file .*alpha\.token/);
      for (const out of [probe.stdout, probe.stderr, r.stdout, r.stderr]) {
        assert.ok(!out.includes("wrong-token") && !out.includes(TOKEN), "no token in output");
      }
    } finally {
      await writeFile(cfgPath, good);
    }
  });

  test("a disabled chat endpoint gets the exact openclaw command to enable it", async () => {
    gateway.setMode("endpoint-disabled");
    try {
      const r = await world.run(["dispatch", "hello", "--to", "alpha"]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /openclaw --profile alpha config set gateway\.http\.endpoints\.chatCompletions\.enabled true/,
      );
    } finally {
      gateway.setMode("ok");
    }
  });

  test("escape sequences in the agent's answer never reach the terminal", async () => {
    gateway.configure({ reply: "\u001b[2J\u001b[Hclean \u001b]0;pwned\u0007text\u009b31m and 中文" });
    try {
      const r = await world.run(["dispatch", "say something nasty", "--to", "alpha", "--wait"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "clean text and 中文");
      const id = /(req_\S+)/.exec(r.stderr)?.[1] ?? "";
      const show = await world.run(["tasks", "show", id]);
      assert.ok(!/[\u001b\u0007\u009b]/.test(show.stdout), "tasks show is clean too");
    } finally {
      gateway.configure({ reply: (p: string) => `echo: ${p}` });
    }
  });

  test("malformed, half-written, huge and oddly named blackboard files are reported, and nothing else is affected", async () => {
    const inbox = join(world.blackboard, "requests", "alpha");
    await mkdir(inbox, { recursive: true });
    const old = new Date(Date.now() - 60_000);
    const bad = join(inbox, "req_20260101_000000_deadbeef.json");
    await writeFile(bad, "{ this is not json");
    await utimes(bad, old, old);
    const huge = join(inbox, "req_20260101_000002_0000beef.json");
    await writeFile(huge, `{"pad":"${"x".repeat(2_000_000)}"}`);
    await utimes(huge, old, old);
    await writeFile(join(inbox, "notes.txt"), "hello");
    await writeFile(join(inbox, "req_x.json.sync-conflict-20260101"), "{}");
    await writeFile(join(inbox, ".hidden.json"), "{}");

    // A good task is queued next to them.
    gateway.setMode("hang");
    const d = await world.run(["dispatch", "the good one", "--to", "alpha", "--json"]);
    const good = JSON.parse(d.stdout) as { id: string; state: string };
    assert.equal(good.state, "pending");
    gateway.setMode("ok");

    // Someone's copy still arriving: a fresh mtime (set ahead so a slow machine cannot age it) means "look later".
    const young = join(inbox, "req_20260101_000001_0000cafe.json");
    await writeFile(young, '{"schema":"clawos.task/1","id":"req_2026');
    const soon = new Date(Date.now() + 120_000);
    await utimes(young, soon, soon);

    const status = await world.run(["status"]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /req_20260101_000000_deadbeef\.json: is not valid JSON/);
    assert.match(status.stdout, /req_20260101_000002_0000beef\.json: is \d+ bytes, over the/);
    assert.match(status.stdout, /notes\.txt: not a task file name/);
    assert.doesNotMatch(status.stdout, /sync-conflict|\.hidden|0000cafe/);
    assert.match(status.stdout, /the good one/);

    const worker = await world.run(["node", "run", "--node", "alpha", "--once", "--coordinator"]);
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stderr, /quarantined requests\/alpha\/req_20260101_000000_deadbeef\.json/);
    const shown = JSON.parse((await world.run(["tasks", "show", good.id, "--json"])).stdout) as {
      state: string;
    };
    assert.equal(shown.state, "completed");

    const left = await readdir(inbox);
    assert.ok(left.includes("req_20260101_000001_0000cafe.json"), "a young half-written file is left alone");
    assert.ok(!left.includes("req_20260101_000000_deadbeef.json"), "the malformed one was moved aside");
    const quarantine = await readdir(join(world.blackboard, "quarantine"));
    const reason = quarantine.find((n) => n.endsWith(".reason") && n.includes("deadbeef"));
    assert.ok(reason, quarantine.join(", "));
    assert.match(await readFile(join(world.blackboard, "quarantine", reason), "utf8"), /not valid JSON/);
  });
});
