import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { GatewayError } from "../../source/core/transport/gateway-client.js";
import { SshChatRunner, SshError, SshPool } from "../../source/core/transport/ssh-route.js";
import { editConfig, makeWorld, type World } from "../testkit/cli-harness.js";
import { keygen, type Sshd, startSshd } from "../testkit/sshd.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const run = promisify(execFile);

/**
 * The "cloud" node's gateway listens on 127.0.0.1:<remote port>. Its registry entry
 * names a port where nothing listens, so only the SSH tunnel (to the remote port) can reach it.
 */
describe("the urgent P0 route through a real sshd", () => {
  let world: World;
  let sshd: Sshd;
  let gateway: StubGateway;
  let dir: string;

  const setSsh = (ssh: Record<string, unknown>) =>
    editConfig(world, (c) => {
      // A hand edit in the version-1 form: the upgrade publishes the node, the key paths stay here.
      c.nodes = [{ id: "cloud", machine: "cloud-vm", port: 9, token: { env: "CLOUD_TOKEN" }, ssh }];
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "clawos-sshd-"));
    sshd = await startSshd(dir);
    gateway = await startStubGateway({
      token: "cloud-secret",
      reply: (p) => `cloud answers: ${p}`,
      deltas: 5,
    });
    world = await makeWorld();
    const add = await world.run([
      "nodes",
      "add",
      "cloud",
      "--machine",
      "cloud-vm",
      "--port",
      "9", // nothing listens there: only the tunnel reaches the gateway
      "--token-env",
      "CLOUD_TOKEN",
      "--ssh",
      sshd.target,
    ]);
    assert.equal(add.code, 0, add.stderr);
    await setSsh({
      target: sshd.target,
      identityFile: sshd.clientKey,
      knownHosts: sshd.knownHosts,
      remotePort: gateway.port,
    });
  });
  after(async () => {
    await gateway.close();
    await sshd.stop();
    await world.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const env = { CLOUD_TOKEN: "cloud-secret" };

  test("a P0 task to another machine goes through the SSH tunnel and the answer streams back", async () => {
    const r = await world.run(
      ["dispatch", "urgent: restart the scraper", "--to", "cloud", "--priority", "P0", "--wait"],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /via ssh/);
    assert.equal(r.stdout.trim(), "cloud answers: urgent: restart the scraper");
    assert.equal(gateway.requests.filter((q) => q.path === "/v1/chat/completions").length, 1);
  });

  test("without --wait a P0 over SSH says why the command waits for the answer, then where the task ended", async () => {
    const r = await world.run(["dispatch", "urgent, no wait", "--to", "cloud", "--priority", "P0"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /urgent, so this command runs it over SSH now and returns when cloud has answered/,
    );
    assert.doesNotMatch(r.stderr, /no worker serves this machine/);
    assert.match(r.stderr, /req_\S+ completed on cloud \(clawos tasks show req_\S+\)/);
  });

  test("a P2 task uses SSH while the node's worker is silent, and the blackboard when that is turned off", async () => {
    const r = await world.run(["dispatch", "worker is asleep", "--to", "cloud", "--json"], { env });
    const viaSsh = JSON.parse(r.stdout) as { state: string; reply: string; route: { transport: string } };
    assert.deepEqual([viaSsh.state, viaSsh.route.transport], ["completed", "ssh"]);
    assert.equal(viaSsh.reply, "cloud answers: worker is asleep");
    await setSsh({
      target: sshd.target,
      identityFile: sshd.clientKey,
      knownHosts: sshd.knownHosts,
      remotePort: gateway.port,
      whenWorkerSilent: false,
    });
    const q = await world.run(["dispatch", "not urgent", "--to", "cloud", "--json"], { env });
    const task = JSON.parse(q.stdout) as { state: string; route: { transport: string } };
    assert.deepEqual([task.state, task.route.transport], ["pending", "blackboard"]);
  });

  test("hashed known_hosts entries are verified too", async () => {
    const hashed = join(dir, "known_hosts_hashed");
    await writeFile(hashed, `${sshd.hostKeyLine}\n`);
    await run("ssh-keygen", ["-H", "-f", hashed]);
    assert.match(await readFile(hashed, "utf8"), /^\|1\|/);
    await setSsh({
      target: sshd.target,
      identityFile: sshd.clientKey,
      knownHosts: hashed,
      remotePort: gateway.port,
    });
    const r = await world.run(["dispatch", "hashed", "--to", "cloud", "--priority", "P0", "--wait"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "cloud answers: hashed");
  });

  test("a changed host key is refused with its fingerprint; the task waits on the blackboard", async () => {
    const other = join(dir, "other_host");
    await keygen(other);
    const pub = (await readFile(`${other}.pub`, "utf8")).trim().split(/\s+/);
    const wrong = join(dir, "known_hosts_wrong");
    await writeFile(wrong, `[127.0.0.1]:${sshd.port} ${pub[0]} ${pub[1]}\n`);
    await setSsh({
      target: sshd.target,
      identityFile: sshd.clientKey,
      knownHosts: wrong,
      remotePort: gateway.port,
    });
    const before = gateway.requests.length;
    const r = await world.run(["dispatch", "must not run", "--to", "cloud", "--priority", "P0", "--json"], {
      env,
    });
    const task = JSON.parse(r.stdout) as {
      state: string;
      node: string;
      history: { event: string; detail: string }[];
    };
    assert.equal(task.state, "pending", "never lost: it waits in the node's inbox");
    const failure = task.history.find((h) => h.event === "attempt-failed")?.detail ?? "";
    assert.match(failure, /host key of \[127\.0\.0\.1\]:\d+ has CHANGED \(now SHA256:/);
    assert.equal(gateway.requests.length, before, "nothing reached the gateway");
  });

  test("an unknown host key is refused with the command to trust it", async () => {
    const empty = join(dir, "known_hosts_empty");
    await writeFile(empty, "");
    await setSsh({
      target: sshd.target,
      identityFile: sshd.clientKey,
      knownHosts: empty,
      remotePort: gateway.port,
    });
    const r = await world.run(["dispatch", "unknown host", "--to", "cloud", "--priority", "P0", "--json"], {
      env,
    });
    const task = JSON.parse(r.stdout) as { history: { event: string; detail: string }[] };
    const failure = task.history.find((h) => h.event === "attempt-failed")?.detail ?? "";
    assert.match(failure, /is not in .*known_hosts_empty \(it offered SHA256:/);
  });

  test("a client key missing from authorized_keys is refused", async () => {
    await setSsh({
      target: sshd.target,
      identityFile: sshd.otherClientKey,
      knownHosts: sshd.knownHosts,
      remotePort: gateway.port,
    });
    const r = await world.run(["dispatch", "wrong key", "--to", "cloud", "--priority", "P0", "--json"], {
      env,
    });
    const task = JSON.parse(r.stdout) as { state: string; history: { event: string; detail: string }[] };
    assert.equal(task.state, "pending");
    assert.match(
      task.history.find((h) => h.event === "attempt-failed")?.detail ?? "",
      /refused our key \(publickey/,
    );
  });

  test("a refused tunnel falls back to `openclaw agent --json` over exec", async () => {
    const fake = join(sshd.binDir, "openclaw");
    await writeFile(
      fake,
      `#!/bin/sh\nmsg=$(cat)\nprintf '{"result":{"payloads":[{"text":"one-shot: %s"}]}}' "$msg"\n`,
    );
    await chmod(fake, 0o755);
    // A remote port with nothing listening: sshd refuses the channel.
    await setSsh({
      target: sshd.target,
      identityFile: sshd.clientKey,
      knownHosts: sshd.knownHosts,
      remotePort: 9,
    });
    const r = await world.run(
      ["dispatch", "fallback please", "--to", "cloud", "--priority", "P0", "--wait"],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "one-shot: fallback please");
  });
});

/** SshChatRunner in-process: HTTP runs over direct-tcpip channels, with no local port. */
describe("the gateway client over SSH channels", () => {
  let sshd: Sshd;
  let gateway: StubGateway;
  let dir: string;
  let pool: SshPool;

  const settingsFor = () => ({
    target: sshd.target,
    identityFile: sshd.clientKey,
    knownHosts: sshd.knownHosts,
  });
  const runnerFor = (remotePort: number) =>
    new SshChatRunner(pool, settingsFor(), {
      nodeId: "cloud",
      token: "cloud-secret",
      tokenSource: "test",
      profile: null,
      agent: "main",
      remotePort,
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "clawos-sshchan-"));
    sshd = await startSshd(dir);
    gateway = await startStubGateway({
      token: "cloud-secret",
      reply: (p) => `channel answers: ${p}`,
      deltas: 4,
      chunkDelayMs: 5,
    });
    pool = new SshPool(process.env);
  });
  after(async () => {
    await pool.closeAll();
    await gateway.close();
    await sshd.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("a reply streams back in pieces, and later turns reuse the connection and its channels", async () => {
    const runner = runnerFor(gateway.port);
    const deltas: string[] = [];
    const first = await runner.chat({ text: "one", user: "u", onDelta: (d) => deltas.push(d) });
    assert.equal(first.text, "channel answers: one");
    assert.ok(deltas.length > 1, `streamed in pieces, got ${JSON.stringify(deltas)}`);
    assert.equal(deltas.join(""), first.text);
    const session = await pool.get(settingsFor());
    const connectionsBefore = gateway.connections;
    for (const text of ["two", "three", "four", "five"]) {
      assert.equal((await runner.chat({ text, user: "u" })).text, `channel answers: ${text}`);
    }
    assert.equal(await pool.get(settingsFor()), session, "one SSH connection for every turn");
    assert.ok(
      gateway.connections - connectionsBefore < 4,
      `keep-alive over the channel: ${gateway.connections - connectionsBefore} new connections for 4 turns`,
    );
  });

  test("turns at the same time each get their own channel", async () => {
    const runner = runnerFor(gateway.port);
    const texts = ["a", "b", "c", "d"];
    const replies = await Promise.all(texts.map((text) => runner.chat({ text, user: `u-${text}` })));
    assert.deepEqual(
      replies.map((r) => r.text),
      texts.map((t) => `channel answers: ${t}`),
    );
  });

  test("a cancelled turn closes its channel and the next turn still works", async () => {
    const runner = runnerFor(gateway.port);
    gateway.setMode("stall");
    const controller = new AbortController();
    const stalled = runner.chat({
      text: "never finishes",
      user: "u",
      signal: controller.signal,
      onDelta: () => controller.abort(),
    });
    await assert.rejects(
      stalled,
      (error: unknown) => error instanceof GatewayError && error.kind === "aborted",
    );
    gateway.setMode("ok");
    assert.equal((await runner.chat({ text: "after", user: "u" })).text, "channel answers: after");
  });

  test("a dropped SSH connection fails the turn in flight instead of hanging it", async () => {
    const runner = runnerFor(gateway.port);
    gateway.setMode("stall");
    try {
      const session = await pool.get(settingsFor());
      const stalled = runner.chat({ text: "cut off", user: "u", onDelta: () => session.destroy() });
      await assert.rejects(
        stalled,
        (error: unknown) => error instanceof GatewayError || error instanceof SshError,
      );
    } finally {
      gateway.setMode("ok");
    }
    assert.equal(
      (await runner.chat({ text: "reconnected", user: "u" })).text,
      "channel answers: reconnected",
    );
  });

  test("a gateway that stops after the channel was opened is reported as down, not as an SSH failure", async () => {
    const other = await startStubGateway({ token: "cloud-secret", reply: "still here" });
    const runner = runnerFor(other.port);
    assert.equal((await runner.chat({ text: "x", user: "u" })).text, "still here");
    await other.close();
    await assert.rejects(runner.chat({ text: "y", user: "u" }), (error: unknown) => {
      assert.ok(error instanceof SshError, String(error));
      assert.equal(error.kind, "remote_failed");
      assert.match(
        error.message,
        new RegExp(`SSH works, but the gateway on 127\\.0\\.0\\.1:${other.port} is down`),
      );
      return true;
    });
  });
});
