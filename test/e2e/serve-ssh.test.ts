import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { makeWorld, profileConfig, type RunningCli, type World } from "../testkit/cli-harness.js";
import { KEYS, type PtySession, spawnInPty } from "../testkit/pty-harness.js";
import { freePort, keygen, sshClientArgs } from "../testkit/sshd.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

/** `clawos serve --ssh`, driven by the real OpenSSH client in a pseudo-terminal. */
describe("the control center served over SSH", () => {
  let world: World;
  let gateway: StubGateway;
  let server: RunningCli;
  let dir: string;
  let port: number;
  let knownHosts: string;
  const ptys: PtySession[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "clawos-serve-"));
    await keygen(join(dir, "client"));
    await keygen(join(dir, "stranger"));
    // An operator: this test dispatches (a key with no role is a viewer).
    await writeFile(
      join(dir, "authorized_keys"),
      `clawos-role="operator" ${await readFile(join(dir, "client.pub"), "utf8")}`,
    );
    world = await makeWorld();
    gateway = await startStubGateway({
      token: "t0k",
      reply: (p) => `served reply: ${p} SERVED-END`,
      deltas: 6,
    });
    await world.writeProfile("alpha", profileConfig(gateway.port, "t0k"));
    assert.equal((await world.run(["init"])).code, 0);
    port = await freePort();
    server = world.spawn([
      "serve",
      "--ssh",
      `127.0.0.1:${port}`,
      "--authorized-keys",
      join(dir, "authorized_keys"),
    ]);
    await server.waitFor("listening on 127.0.0.1");
    const pub = (await readFile(join(world.clawosHome, "serve", "ssh_host_ed25519_key.pub"), "utf8"))
      .trim()
      .split(/\s+/);
    knownHosts = join(dir, "known_hosts");
    await writeFile(knownHosts, `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}\n`);
  });
  afterEach(() => {
    for (const p of ptys.splice(0)) p.dispose();
  });
  after(async () => {
    server.child.kill("SIGTERM");
    await server.exited;
    await gateway.close();
    await world.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const ssh = (key: string, cols = 120, rows = 36) => {
    const p = spawnInPty(
      "ssh",
      [...sshClientArgs({ port, identity: join(dir, key), knownHosts }), "viewer@127.0.0.1"],
      { cols, rows, env: { HOME: dir, PATH: process.env.PATH }, timeoutMs: 30_000 },
    );
    ptys.push(p);
    return p;
  };

  test("the real ssh client opens the TUI, navigates, dispatches, resizes and disconnects", async () => {
    const s = ssh("client");
    await s.waitForText(/alpha\s+online/);
    assert.equal(s.isAlternateBuffer(), true);
    s.write("d");
    await s.waitForText("Dispatch a task");
    s.write(`over ssh${KEYS.enter}`);
    await s.waitForText("SERVED-END");
    assert.match(s.screenText(), /served reply: over ssh SERVED-END/);
    s.resize(80, 24);
    await s.waitFor(
      () => /ClawOS Federation/.test(s.screenLines()[0] ?? "") && s.screenLines().length === 24,
      "80×24 frame",
    );
    s.write(KEYS.escape);
    await s.waitForText(/NODE\s+STATUS/);
    s.write("q");
    const exit = await s.waitForExit();
    assert.equal(exit.exitCode, 0);
    assert.equal(s.isAlternateBuffer(), false, "the client's terminal is back on the normal screen");
    // The server notes the disconnect after the client has gone: read until it is there.
    let log = "";
    for (let i = 0; i < 100 && !/disconnected/.test(log); i++) {
      log = await readFile(join(world.clawosHome, "serve", "serve.log"), "utf8");
      if (!/disconnected/.test(log)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(log, /session \d+: viewer from 127\.0\.0\.1:\d+ logged in \(key SHA256:/);
    assert.match(log, /viewer disconnected after \d+ s/);
    assert.ok(!log.includes("t0k"), "no secrets in the log");
  });

  test("a key missing from authorized_keys gets Permission denied (publickey)", async () => {
    const s = ssh("stranger");
    const exit = await s.waitForExit();
    assert.equal(exit.exitCode, 255);
    assert.match(s.screenText(), /Permission denied \(publickey\)/);
  });

  test("two sessions at once keep separate state", async () => {
    const a = ssh("client", 100, 30);
    const b = ssh("client", 100, 30);
    await a.waitForText(/alpha\s+online/);
    await b.waitForText(/alpha\s+online/);
    a.write(KEYS.tab);
    await a.waitForText(/TASK\s.*STATE/);
    b.write("?");
    await b.waitForText("? or Esc closes");
    assert.doesNotMatch(b.screenText(), /TASK\s.*STATE/, "b did not follow a to the tasks view");
    assert.doesNotMatch(a.screenText(), /or Esc closes/, "a did not get b's help overlay");
    a.write("q");
    b.write(KEYS.escape);
    await b.waitForText(/NODE\s+STATUS/);
    b.write("q");
    const aExit = await a.waitForExit();
    assert.equal(aExit.exitCode, 0, a.screenText());
    assert.equal((await b.waitForExit()).exitCode, 0);
  });
});
