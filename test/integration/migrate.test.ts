import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { World } from "../testkit/cli-harness.js";
import { startMigrationWorld } from "../testkit/migration-world.js";
import { freePort, type Sshd } from "../testkit/sshd.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** "The cloud" is a second HOME on this machine behind a real sshd on 127.0.0.1. */
describe("clawos migrate to a loopback sshd 'remote', and back", () => {
  let world: World;
  let sshd: Sshd;
  let remoteHome: string;
  let env: NodeJS.ProcessEnv;
  let stop: () => Promise<void>;
  let remotePort: number;
  let args: string[];

  before(async () => {
    ({ world, sshd, remoteHome, env, stop } = await startMigrationWorld("clawos-migrate-"));
    // Things that must never travel.
    const state = join(world.home, ".openclaw-beta");
    await mkdir(join(state, "workspace", "sessions"), { recursive: true });
    await writeFile(join(state, "workspace", "sessions", "s1.json"), "{}");
    await writeFile(join(state, "workspace", "MEMORY.md"), "remember the milk\n");
    await mkdir(join(state, "logs"), { recursive: true });
    await writeFile(join(state, "logs", "gateway.log"), "noise");
    await writeFile(join(state, "workspace", "agent.lock"), "");
    remotePort = await freePort();
    args = [
      "migrate",
      "beta",
      "--to",
      sshd.target,
      "--identity",
      sshd.clientKey,
      "--known-hosts",
      sshd.knownHosts,
      "--remote-port",
      String(remotePort),
      "--machine",
      "cloud",
      "--ready-timeout",
      "30",
    ];
  });
  after(async () => {
    await stop();
  });

  const registry = () => readFile(join(world.clawosHome, "federation.json"), "utf8");

  test("--dry-run shows the plan and changes nothing", async () => {
    const before = await registry();
    const r = await world.run([...args, "--dry-run"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Plan for beta: hub:.*\.openclaw-beta \(port \d+\) → .*\.openclaw-beta \(port \d+, bound to loopback\)/,
    );
    assert.match(r.stdout, /copy \d+ file\(s\): openclaw\.json, .*workspace\/MEMORY\.md/);
    assert.match(r.stdout, /leave behind 2: workspace\/agent\.lock, workspace\/sessions/);
    assert.equal(await registry(), before);
    assert.deepEqual(await readdir(remoteHome), []);
  });

  test("an SSH connection dropped mid-copy leaves the registry and the local disk as they were", async () => {
    const before = await registry();
    const localFiles = await readdir(join(world.home, ".openclaw-beta"), { recursive: true });
    const r = await world.run(args, { env: { ...env, CLAWOS_FAULT: "ssh-drop-after:1" } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Migration of beta stopped: .*Nothing changed here/);
    assert.equal(await registry(), before);
    assert.deepEqual(await readdir(join(world.home, ".openclaw-beta"), { recursive: true }), localFiles);
    assert.ok(
      !(await readdir(remoteHome)).includes(".openclaw-beta"),
      "nothing half-made in place on the remote",
    );
  });

  /** A failed attempt leaves the registry, the local profile and the remote home as they were. */
  async function failsCleanly(extraEnv: NodeJS.ProcessEnv, expect: RegExp): Promise<string> {
    const before = await registry();
    const localFiles = await readdir(join(world.home, ".openclaw-beta"), { recursive: true });
    const r = await world.run(args, { env: { ...env, ...extraEnv } });
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Migration of beta stopped: .*Nothing changed here/);
    assert.match(r.stderr, expect);
    assert.equal(await registry(), before);
    assert.deepEqual(await readdir(join(world.home, ".openclaw-beta"), { recursive: true }), localFiles);
    assert.deepEqual(
      (await readdir(remoteHome)).filter((f) => f.startsWith(".openclaw-beta")),
      [],
      "nothing left in the remote home",
    );
    return r.stderr;
  }

  test("no openclaw on the remote PATH: refused before anything is copied", async () => {
    const fake = join(sshd.binDir, "openclaw");
    await rename(fake, `${fake}.away`);
    try {
      await failsCleanly(
        {},
        /openclaw is not on the PATH of an SSH session on 127\.0\.0\.1[\s\S]*fix: install it there/,
      );
    } finally {
      await rename(`${fake}.away`, fake);
    }
  });

  test("the remote port already taken: refused with the fix", async () => {
    const server = createServer().listen(remotePort, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      await failsCleanly({}, new RegExp(`Port ${remotePort} is already in use[\\s\\S]*--remote-port`));
    } finally {
      server.close();
    }
  });

  test("a remote port within 120 of a gateway there: refused with a port that keeps clear", async () => {
    const other = join(remoteHome, ".openclaw-work");
    await mkdir(other, { recursive: true });
    await writeFile(join(other, "openclaw.json"), `{ gateway: { port: ${remotePort + 100} } }\n`);
    try {
      const stderr = await failsCleanly(
        {},
        new RegExp(
          `Port ${remotePort} is 100 ports from the gateway of profile work \\(${remotePort + 100}\\) on 127\\.0\\.0\\.1`,
        ),
      );
      assert.match(stderr, /fix: OpenClaw needs 120 between gateways: use --remote-port \d+/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test("a remote gateway that dies at start: its last words, and the copy removed there", async () => {
    await writeFile(join(remoteHome, ".fake-openclaw-mode"), "exits\n");
    try {
      await failsCleanly({}, /exited before it was ready: .*simulated crash at start/);
    } finally {
      await rm(join(remoteHome, ".fake-openclaw-mode"), { force: true });
    }
  });

  test("migrate moves the node: files copied (not logs, locks or sessions), started there, local one stopped, tasks run there", async () => {
    const localPid = Number(
      (await readFile(join(world.clawosHome, "run", "beta.gateway.pid"), "utf8")).trim(),
    );
    const r = await world.run(args, { env });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /answers through SSH/);
    assert.match(r.stdout, /Node beta now lives on cloud/);
    assert.match(r.stdout, /Stopped the local gateway/);
    assert.equal(alive(localPid), false);

    const copied = (await readdir(join(remoteHome, ".openclaw-beta"), { recursive: true })).sort();
    assert.ok(
      copied.includes("openclaw.json") &&
        copied.includes(join("workspace", "MEMORY.md")) &&
        copied.includes(join("workspace", "SOUL.md")),
    );
    assert.ok(!copied.some((f) => /sessions|logs|\.lock/.test(f)), copied.join(", "));
    const remoteConfig = JSON.parse(
      await readFile(join(remoteHome, ".openclaw-beta", "openclaw.json"), "utf8"),
    );
    assert.equal(remoteConfig.gateway.port, remotePort);
    assert.equal(remoteConfig.gateway.bind, "loopback");
    // OpenClaw's absolute paths point into the copy there, not at this machine's home.
    assert.equal(remoteConfig.agents.defaults.workspace, join(remoteHome, ".openclaw-beta", "workspace"));
    assert.equal(
      remoteConfig.agents.entries.main.agentDir,
      join(remoteHome, ".openclaw-beta", "agents", "main", "agent"),
    );
    assert.ok(!JSON.stringify(remoteConfig).includes(`${world.home}/`), "no local path left");
    // The agent's model credentials travel (0600), its sessions do not.
    const auth = join(remoteHome, ".openclaw-beta", "agents", "main", "agent", "auth-profiles.json");
    assert.equal((await stat(auth)).mode & 0o777, 0o600);
    assert.ok(!copied.some((f) => f.includes(join("main", "sessions"))));

    const nodes = JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as {
      id: string;
      machine: string;
      transport: string;
    }[];
    const beta = nodes.find((n) => n.id === "beta");
    assert.deepEqual([beta?.machine, beta?.transport], ["cloud", "blackboard"]);

    const d = await world.run(
      ["dispatch", "are you in the cloud?", "--to", "beta", "--priority", "P0", "--wait"],
      { env },
    );
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /via ssh/);
    assert.equal(d.stdout.trim(), "incubated node says hi");
  });

  test("--rollback starts the local gateway again, points the node back here, stops the remote one and keeps its copy aside", async () => {
    const r = await world.run(["migrate", "beta", "--rollback"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /The local gateway is running again/);
    assert.match(r.stdout, /points at this machine again/);
    assert.match(r.stdout, /Stopped the gateway on .*kept there as .*\.openclaw-beta\.rolled-back-/);
    const remote = await readdir(remoteHome);
    assert.ok(!remote.includes(".openclaw-beta"), "a later migration finds the place free");
    assert.ok(remote.some((f) => f.startsWith(".openclaw-beta.rolled-back-")));
    const d = await world.run(["dispatch", "are you home?", "--to", "beta", "--wait"], { env });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /via localhost/);
    assert.equal(d.stdout.trim(), "incubated node says hi");
    const nodes = JSON.parse((await world.run(["nodes", "list", "--json"])).stdout) as {
      id: string;
      machine: string;
      transport: string;
    }[];
    assert.deepEqual(
      nodes.filter((n) => n.id === "beta").map((n) => [n.machine, n.transport]),
      [["hub", "localhost"]],
    );
    const again = await world.run(["migrate", "beta", "--rollback"], { env });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no migration of beta/);
  });
});
